/**
 * The built server (dist/src/server.js) as `npm start` runs it, in a child process: its output is kept,
 * and the log is the synchronisation point (wait for a line, never for a time).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { activation, type HeldSocket } from './held-socket.js'

export const SERVER = join(import.meta.dirname, '../../dist/src/server.js')

export interface ServerProcess {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

export function requireBuild (): void {
  if (!existsSync(SERVER)) throw new Error('Build first (npm run build): the process tests run the built server')
}

/** Starts the built server; with a held socket, as systemd's socket activation does (descriptor 3). */
export function startServer (env: Record<string, string>, socket?: HeldSocket): ServerProcess {
  const activated = activation(socket)
  const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env.PATH ?? '', ...env, ...activated.env }, stdio: activated.stdio })
  let output = ''
  child.stdout!.on('data', (c) => { output += String(c) })
  child.stderr!.on('data', (c) => { output += String(c) })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { resolve(code) }))
  return { child, output: () => output, exited }
}

/** Resolves once the server's output contains the text `times` times. */
export async function waitForOutput (proc: ServerProcess, text: string, times = 1): Promise<void> {
  const seen = () => proc.output().split(text).length - 1 >= times
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (seen()) { cleanup(); resolve() }
    }
    const onExit = () => { cleanup(); reject(new Error(`server exited before printing ${text}:\n${proc.output()}`)) }
    const cleanup = () => { proc.child.stdout!.off('data', check); proc.child.stderr!.off('data', check); proc.child.off('exit', onExit) }
    proc.child.stdout!.on('data', check)
    proc.child.stderr!.on('data', check)
    proc.child.on('exit', onExit)
    check()
  })
}

export interface HttpAnswer { status: number, body: string, headers: Record<string, string | string[] | undefined> }

/** One request on a connection of its own (no keep-alive, so a cluster spreads them over its workers). */
export async function httpRequest (port: number, path: string, options: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<HttpAnswer> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let body = ''
      res.on('data', (c) => { body += String(c) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body, headers: res.headers }) })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}
