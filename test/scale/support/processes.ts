/**
 * Real processes for the scale tests: the built server (`node dist/src/server.js`) and nginx, each on a
 * free port, waited for by polling its health check (bounded), and stopped by its own process id only.
 * Whatever a test forgets is stopped when the test file's process exits. Every server gets a PUBLIC_URL
 * (its own address) and, unless the test names one, an SMTP_URL to a test SMTP server shared by the file
 * that accepts every email, so no delivery fails and retries behind the tests' backs.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { promisify } from 'node:util'
import { afterAll } from 'vitest'
import { SERVER_ENTRY } from './build.js'
import { request } from './client.js'
import { activation, type HeldSocket } from '../../helpers/held-socket.js'
import { freePort } from '../../helpers/ports.js'
import { startTestSmtp } from '../../helpers/smtp.js'

const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 15_000
const POLL_INTERVAL_MS = 100
export const SECRET_KEY = 'scale-test-secret-key-shared-by-every-instance-0123456789'

const running = new Set<ChildProcess>()
process.on('exit', () => { for (const child of running) child.kill('SIGKILL') })

/** The SMTP server of every app this file starts without an SMTP_URL of its own; closed after the file's own hooks. */
export const sharedMail = await startTestSmtp()
afterAll(async () => { await sharedMail.close() })

export interface Proc {
  readonly name: string
  readonly child: ChildProcess
  readonly pid: number
  output: () => string
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>
  /** SIGTERM, then SIGKILL if it has not exited within the timeout. */
  stop: () => Promise<number | string>
}

function track (name: string, child: ChildProcess): Proc {
  running.add(child)
  let output = ''
  child.stdout?.on('data', (chunk) => { output += String(chunk) })
  child.stderr?.on('data', (chunk) => { output += String(chunk) })
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child)
      resolve(code ?? signal ?? 'unknown')
    })
  })
  const isRunning = () => child.exitCode === null && child.signalCode === null
  return {
    name,
    child,
    pid: child.pid!,
    output: () => output,
    exited,
    stop: async () => {
      if (isRunning()) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => { if (isRunning()) child.kill('SIGKILL') }, STOP_TIMEOUT_MS)
        try {
          return await exited
        } finally {
          clearTimeout(timer)
        }
      }
      return await exited
    }
  }
}

/** Polls the URL until it answers 200; fails early if the process exits, or after the timeout. */
export async function waitForHealth (proc: Proc, url: string, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  proc.exited.then(() => { exited = true }, () => {})
  let last = ''
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${proc.name} exited before answering ${url}:\n${proc.output()}`)
    try {
      const res = await request('GET', url, { timeoutMs: 2_000 })
      if (res.status === 200) return
      last = `status ${res.status}`
    } catch (error) {
      last = String(error)
    }
    await delay(POLL_INTERVAL_MS)
  }
  throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms (${last}):\n${proc.output()}`)
}

export interface AppProc extends Proc {
  readonly port: number
  readonly url: string
}

/**
 * Spawns the built server in production mode with the given environment (nothing inherited but PATH);
 * with a held socket, as systemd's socket activation starts it (descriptor 3, LISTEN_FDS=1).
 */
export function spawnApp (name: string, env: Record<string, string>, socket?: HeldSocket): Proc {
  const activated = activation(socket)
  const port = socket?.port ?? env.PORT
  const mail = { PUBLIC_URL: port === undefined ? 'http://127.0.0.1' : `http://127.0.0.1:${port}`, SMTP_URL: sharedMail.url }
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', SECRET_KEY, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...mail, ...env, ...activated.env },
    stdio: activated.stdio
  })
  return track(name, child)
}

/**
 * Starts the built server and waits until it answers its health check: on a free port, the given port, or
 * a socket held as systemd holds one (docs/deploy/paws@.socket).
 */
export async function startApp (name: string, env: Record<string, string>, options: { port?: number, socket?: HeldSocket } = {}): Promise<AppProc> {
  if (options.socket !== undefined) return await startOnPort(name, env, options.socket.port, options.socket)
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnPort(name, env, options.port ?? await freePort())
    } catch (error) {
      // Another process may take a free port between our probe and the server's listen: try another.
      if (options.port !== undefined || attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error
    }
  }
}

async function startOnPort (name: string, env: Record<string, string>, port: number, socket?: HeldSocket): Promise<AppProc> {
  const proc = spawnApp(name, { ...env, PORT: String(port) }, socket)
  const url = `http://127.0.0.1:${port}`
  try {
    await waitForHealth(proc, `${url}/healthz`)
  } catch (error) {
    await proc.stop()
    throw error
  }
  return { ...proc, port, url }
}

type AppSpec = { name: string, env: Record<string, string>, socket?: HeldSocket }

/** Starts two at once (they race through migrations and demo data together). */
export async function startApps (specs: [AppSpec, AppSpec]): Promise<[AppProc, AppProc]> {
  const results = await Promise.allSettled(specs.map(async (s) => await startApp(s.name, s.env, { socket: s.socket })))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) {
    await Promise.all(results.map(async (r) => { if (r.status === 'fulfilled') await r.value.stop() }))
    throw failed.reason
  }
  return results.map((r) => (r as PromiseFulfilledResult<AppProc>).value) as [AppProc, AppProc]
}

/** Parsed JSON log lines (pino) of a process's output; other lines are skipped. */
export function logLines (output: string): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = []
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      // A line cut in two by the pipe; not one the tests look for.
    }
  }
  return lines
}

// ---------------------------------------------------------------------------------------------------------
// nginx with TLS

export const NGINX = process.env.NGINX_BINARY ?? '/usr/sbin/nginx'
/** As in docs/deploy/nginx.conf: how long nginx leaves an instance alone after a failed connection. */
const NGINX_FAIL_TIMEOUT_MS = 2_000
const DEPLOY_DIR = join(import.meta.dirname, '..', '..', '..', 'docs', 'deploy')

export interface NginxProc extends Proc {
  readonly port: number
  readonly url: string
  readonly dir: string
}

/**
 * nginx in the foreground with its own prefix folder, a self-signed certificate made now, and the
 * shipped proxy settings (docs/deploy/paws-proxy.conf) in front of the given upstream ports.
 */
export async function startNginx (upstreamPorts: number[]): Promise<NginxProc> {
  const dir = mkdtempSync(join(tmpdir(), 'paws-nginx-'))
  // nginx's worker may run as another user when the test runs as root: let it write its temp files.
  chmodSync(dir, 0o755)
  for (const sub of ['logs', 'temp']) {
    mkdirSync(join(dir, sub))
    chmodSync(join(dir, sub), 0o777)
  }
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')
  ])
  const port = await freePort()
  const conf = `
worker_processes 1;
error_log ${dir}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log ${dir}/logs/access.log;
  client_body_temp_path ${dir}/temp/body;
  proxy_temp_path ${dir}/temp/proxy;
  fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi;
  scgi_temp_path ${dir}/temp/scgi;

  upstream paws {
${upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=${NGINX_FAIL_TIMEOUT_MS / 1000}s;`).join('\n')}
  }

  server {
    listen 127.0.0.1:${port} ssl;
    server_name localhost;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;

    location / {
      include ${DEPLOY_DIR}/paws-proxy.conf;
      # For the tests only: which instance answered.
      add_header X-Test-Upstream $upstream_addr always;
    }
  }
}
`
  writeFileSync(join(dir, 'nginx.conf'), conf)
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs', 'error.log'), '-g', `daemon off; pid ${dir}/nginx.pid;`], { stdio: ['ignore', 'pipe', 'pipe'] })
  const proc = track('nginx', child)
  const url = `https://127.0.0.1:${port}`
  const stop = async () => {
    const result = await proc.stop()
    rmSync(dir, { recursive: true, force: true })
    return result
  }
  try {
    await waitForHealth(proc, `${url}/healthz`)
  } catch (error) {
    await stop()
    throw error
  }
  return { ...proc, stop, port, url, dir }
}

/**
 * `nginx -t` on the shipped site configuration (docs/deploy/nginx.conf), wrapped in a minimal main
 * configuration, with its certificate and snippet paths pointed at the test's own files.
 */
export async function checkShippedNginxConfig (certDir: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'paws-nginx-check-'))
  try {
    mkdirSync(join(dir, 'logs'))
    const site = readFileSync(join(DEPLOY_DIR, 'nginx.conf'), 'utf8')
      .replaceAll('/etc/nginx/snippets/paws-proxy.conf', join(DEPLOY_DIR, 'paws-proxy.conf'))
      .replaceAll('/etc/letsencrypt/live/paws.example.org/fullchain.pem', join(certDir, 'cert.pem'))
      .replaceAll('/etc/letsencrypt/live/paws.example.org/privkey.pem', join(certDir, 'key.pem'))
    const conf = `error_log ${dir}/logs/error.log;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n${site}\n}\n`
    writeFileSync(join(dir, 'nginx.conf'), conf)
    const { stderr } = await promisify(execFile)(NGINX, ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs', 'error.log'), '-g', `pid ${dir}/nginx.pid;`])
    return stderr
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
