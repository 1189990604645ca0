/**
 * The load generator for page views: wrk (C, epoll, one thread here), which costs far less CPU per request
 * than the server it measures. Installed from Debian's packages when missing. A generated Lua script prints
 * the run's figures as one JSON line, so nothing is scraped from wrk's human-readable output.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface WrkResult {
  requests: number
  durationS: number
  rps: number
  bytes: number
  /** Connect, read, write and timeout errors, plus responses with a status above 399. */
  errors: { connect: number, read: number, write: number, status: number, timeout: number }
  latencyMs: { p50: number, p90: number, p99: number, p999: number, max: number, mean: number }
}

interface RawWrkResult {
  requests: number
  duration_us: number
  bytes: number
  errors: WrkResult['errors']
  latency_us: { p50: number, p90: number, p99: number, p999: number, max: number, mean: number }
}

export interface WrkOptions {
  url: string
  connections: number
  durationS: number
  threads?: number
  headers?: Record<string, string>
  /** Each request carries `cookieName=<one of these tokens, at random>`. */
  rotateCookie?: { name: string, tokensFile: string }
  /** Where to write the generated Lua script. */
  workDir: string
}

const WRK_CANDIDATES = ['/usr/bin/wrk', '/usr/local/bin/wrk']

function findWrk (): string | null {
  for (const path of WRK_CANDIDATES) if (existsSync(path)) return path
  try {
    return execFileSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).trim() || null
  } catch {
    return null
  }
}

/** wrk's path; installs Debian's package first when it is missing (apt-get update, then install). */
export function ensureWrk (log: (line: string) => void): string {
  const found = findWrk()
  if (found !== null) return found
  log('wrk is not installed: apt-get update && apt-get install -y wrk')
  try {
    execFileSync('apt-get', ['update'], { stdio: 'inherit', timeout: 300_000 })
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'wrk'], { stdio: 'inherit', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  } catch (error) {
    throw new Error(`could not install wrk (${error instanceof Error ? error.message : String(error)}); install it with: apt-get install -y wrk`)
  }
  const installed = findWrk()
  if (installed === null) throw new Error('wrk is still missing after apt-get install -y wrk')
  return installed
}

const REPORT_LUA = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latency_us":{"p50":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f,"max":%.0f,"mean":%.3f}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
`

const ROTATE_LUA = `
local tokens = {}
local cookie_name = ""
local threads_started = 0
function setup(thread)
  threads_started = threads_started + 1
  thread:set("thread_number", threads_started)
end
function init(args)
  cookie_name = args[1]
  for line in io.lines(args[2]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  math.randomseed(os.time() * 1000 + (thread_number or 0))
end
function request()
  local token = tokens[math.random(#tokens)]
  return wrk.format(nil, nil, { ["Cookie"] = cookie_name .. "=" .. token })
end
`

export async function runWrk (wrk: string, options: WrkOptions): Promise<WrkResult> {
  const script = join(options.workDir, options.rotateCookie === undefined ? 'report.lua' : 'rotate.lua')
  writeFileSync(script, (options.rotateCookie === undefined ? '' : ROTATE_LUA) + REPORT_LUA)
  const args = [
    '-t', String(options.threads ?? 1),
    '-c', String(options.connections),
    '-d', `${options.durationS}s`,
    '--timeout', '10s',
    '-s', script
  ]
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`)
  args.push(options.url)
  if (options.rotateCookie !== undefined) args.push('--', options.rotateCookie.name, options.rotateCookie.tokensFile)

  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const killer = setTimeout(() => { child.kill('SIGKILL') }, (options.durationS + 30) * 1000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(killer)
      if (code === 0) resolve(stdout)
      else reject(new Error(`wrk exited with ${String(code)}: ${stderr || stdout}`))
    })
  })
  const line = output.split('\n').find((l) => l.startsWith('BENCH_JSON '))
  if (line === undefined) throw new Error(`wrk printed no result:\n${output}`)
  const raw = JSON.parse(line.slice('BENCH_JSON '.length)) as RawWrkResult
  const durationS = raw.duration_us / 1e6
  const ms = (us: number) => us / 1000
  return {
    requests: raw.requests,
    durationS,
    rps: raw.requests / durationS,
    bytes: raw.bytes,
    errors: raw.errors,
    latencyMs: {
      p50: ms(raw.latency_us.p50),
      p90: ms(raw.latency_us.p90),
      p99: ms(raw.latency_us.p99),
      p999: ms(raw.latency_us.p999),
      max: ms(raw.latency_us.max),
      mean: ms(raw.latency_us.mean)
    }
  }
}

export function wrkErrorCount (result: WrkResult): number {
  const e = result.errors
  return e.connect + e.read + e.write + e.status + e.timeout
}
