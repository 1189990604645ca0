/**
 * The processes the benchmark starts: the production server and the bare node:http server. Each is
 * stopped by its own PID (SIGTERM, then SIGKILL after a bounded wait), never by name. Their standard output
 * and error go straight to their log file (as `node … >> file 2>&1` would), not through the benchmark's
 * process: at the default log level the server writes a line per request, and the benchmark must not
 * spend its own CPU carrying them.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import http from 'node:http'
import { sleep } from './stats.js'
import { freePort } from '../../test/helpers/ports.js'

export interface Started {
  child: ChildProcess
  pid: number
  url: string
  port: number
  logFile: string
  stop: () => Promise<number | null>
}

async function get (url: string): Promise<number> {
  return await new Promise((resolve) => {
    const req = http.get(url, { timeout: 2_000, agent: false }, (res) => {
      res.resume()
      res.on('end', () => { resolve(res.statusCode ?? 0) })
    })
    req.on('timeout', () => { req.destroy() })
    req.on('error', () => { resolve(0) })
  })
}

export interface StartOptions {
  command: string
  args: string[]
  env: NodeJS.ProcessEnv
  cwd: string
  port: number
  logFile: string
  /** Path answered with 200 once the process is ready. */
  readyPath: string
  readyTimeoutMs?: number
}

export async function startProcess (options: StartOptions): Promise<Started> {
  const log = openSync(options.logFile, 'a')
  let child: ChildProcess
  try {
    child = spawn(options.command, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', log, log] })
  } finally {
    // The child has its own copy of the descriptor.
    closeSync(log)
  }
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start ${options.command}`)
  let exitCode: number | null | undefined
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal === null ? null : 128)
      resolve(exitCode)
    })
  })
  const url = `http://127.0.0.1:${options.port}`
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000)
  while (true) {
    if (exitCode !== undefined) {
      throw new Error(`${options.args.join(' ')} exited with ${String(exitCode)} before answering; its log:\n${safeRead(options.logFile)}`)
    }
    if (await get(`${url}${options.readyPath}`) === 200) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${options.args.join(' ')} did not answer ${options.readyPath} within ${options.readyTimeoutMs ?? 60_000} ms; its log:\n${safeRead(options.logFile)}`)
    }
    await sleep(100)
  }
  const stop = async (): Promise<number | null> => {
    if (exitCode !== undefined) return exitCode
    child.kill('SIGTERM')
    const timer = setTimeout(() => { if (exitCode === undefined) child.kill('SIGKILL') }, 20_000)
    const code = await exited
    clearTimeout(timer)
    return code
  }
  return { child, pid, url, port: options.port, logFile: options.logFile, stop }
}

function safeRead (file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-4000)
  } catch {
    return '(no log)'
  }
}

/** Resident memory of a process, in MiB: now (VmRSS) and its peak since it started (VmHWM). */
export function memoryOf (pid: number): { rssMiB: number, hwmMiB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const field = (name: string) => {
      const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)
      return match === null ? Number.NaN : Number(match[1]) / 1024
    }
    return { rssMiB: field('VmRSS'), hwmMiB: field('VmHWM') }
  } catch {
    return null
  }
}

/** Samples a process's resident memory every `intervalMs` until stopped; returns the highest seen. */
export function sampleMemory (pid: number, intervalMs = 20): () => { peakRssMiB: number, hwmMiB: number, samples: number } {
  let peak = 0
  let samples = 0
  const take = () => {
    const m = memoryOf(pid)
    if (m !== null) {
      peak = Math.max(peak, m.rssMiB)
      samples++
    }
  }
  take()
  const timer = setInterval(take, intervalMs)
  return () => {
    clearInterval(timer)
    take()
    return { peakRssMiB: peak, hwmMiB: memoryOf(pid)?.hwmMiB ?? Number.NaN, samples }
  }
}

/** CPU time (user + system) a process has used so far, in seconds. */
export function cpuSecondsOf (pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    // Fields after the command: state is [0]; utime and stime are the 14th and 15th fields of the line.
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return Number.NaN
  }
}

function systemBusySeconds (): number {
  const fields = (safeRead('/proc/stat').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number)
  // user, nice and system time of every process; interrupts (the loopback network among them) are left out.
  return ((fields[0] ?? 0) + (fields[1] ?? 0) + (fields[2] ?? 0)) / 100
}

/** CPU time of this process's children that have exited (wrk runs), in seconds. */
function reapedChildrenSeconds (): number {
  const fields = safeRead('/proc/self/stat').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[13] ?? 0) + Number(fields[14] ?? 0)) / 100
}

export interface CpuReading {
  seconds: number
  /** Cores used by each watched process. */
  cores: Record<string, number>
  /** Cores used by the load generators (wrk, and this process's login clients). */
  loadGeneratorCores: number
  /** Cores used by every other process on the machine: someone else's work, which disturbs the run. */
  othersCores: number
}

/**
 * Who used the CPU during a run: the watched processes, the load generators, and everyone else. A run
 * during which other processes used a noticeable share of the machine is reported as disturbed.
 */
export function startCpuMeter (watched: Record<string, number>): () => CpuReading {
  const t0 = performance.now()
  const busy0 = systemBusySeconds()
  const self0 = process.cpuUsage()
  const children0 = reapedChildrenSeconds()
  const watched0 = Object.fromEntries(Object.entries(watched).map(([name, pid]) => [name, cpuSecondsOf(pid)]))
  return () => {
    const seconds = (performance.now() - t0) / 1000
    const self = process.cpuUsage(self0)
    const selfS = (self.user + self.system) / 1e6
    const childrenS = reapedChildrenSeconds() - children0
    const cores: Record<string, number> = {}
    let watchedS = 0
    for (const [name, pid] of Object.entries(watched)) {
      const now = cpuSecondsOf(pid)
      const used = Number.isNaN(now) ? 0 : Math.max(0, now - (watched0[name] ?? 0))
      watchedS += used
      cores[name] = used / seconds
    }
    const others = systemBusySeconds() - busy0 - watchedS - selfS - childrenS
    return { seconds, cores, loadGeneratorCores: (selfS + childrenS) / seconds, othersCores: Math.max(0, others) / seconds }
  }
}

/** The processes whose command name is `name` (e.g. the PostgreSQL server's processes), by PID. */
export function processesNamed (name: string): Record<string, number> {
  const found: Record<string, number> = {}
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    if (safeRead(`/proc/${entry}/comm`).trim() === name) found[`${name}:${entry}`] = Number(entry)
  }
  return found
}
export { freePort }
