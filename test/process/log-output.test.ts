/**
 * The built server's log output (src/log-output.ts): lines wait in a buffer (up to LOG_BUFFER_BYTES or
 * LOG_FLUSH_INTERVAL_MS), so the way the process ends decides whether they are lost. Fewer access lines
 * than the buffer holds are written, then the process is ended at once: on SIGTERM every one of them and
 * the 'closed' line reach standard output and the exit code is 0; on an uncaught exception (thrown by a
 * preloaded fixture on SIGUSR2) every one of them and the fatal line reach it and the exit code is 1.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCESS_LOG_MESSAGE } from '../../src/http/access-log.js'
import { LOG_BUFFER_BYTES } from '../../src/log-output.js'
import { freePort } from '../helpers/ports.js'
import { httpRequest, requireBuild, SERVER, type ServerProcess, waitForOutput } from '../helpers/server-process.js'

const CRASH_FIXTURE = pathToFileURL(join(import.meta.dirname, '../fixtures/crash-on-signal.mjs')).href
const CRASH_MESSAGE = 'test crash: thrown on SIGUSR2'
/**
 * Few enough that their access lines (under 200 bytes each) fit in the buffer together, so nothing but a
 * write at the end (the server's flush; pino's own flushSync on exit and after a fatal line also count)
 * puts them out before the process is gone, unless the 1 s periodic flush happens to fall in between.
 * The last line ('closed', the fatal line) is written just before the exit, so that one always needs it.
 */
const REQUESTS = 10
const LISTENING = 'Paws Rescue Center listening on'

interface LogLine { level: number, msg: string, path?: string, status?: number, reqId?: string, err?: { type: string, message: string, stack: string } }

interface Server extends ServerProcess {
  /** Standard output alone: the log. */
  stdout: () => string
  stderr: () => string
}

/**
 * The built server with node options of its own (a preload). `exited` resolves on 'close', once the
 * process has exited and its output has been read to the end.
 */
function start (env: Record<string, string>, nodeArgs: string[] = []): Server {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, SERVER], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c) => { stdout += String(c) })
  child.stderr!.on('data', (c) => { stderr += String(c) })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => { resolve(code) }))
  return { child, output: () => stdout + stderr, stdout: () => stdout, stderr: () => stderr, exited }
}

function lines (stdout: string): LogLine[] {
  return stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LogLine)
}

let dir: string
beforeAll(() => {
  requireBuild()
  dir = mkdtempSync(join(tmpdir(), 'paws-log-output-'))
})
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

/** Starts the server, waits until it listens, and makes REQUESTS requests, each for a path of its own. */
async function serveRequests (name: string, nodeArgs: string[] = []): Promise<{ server: Server, paths: string[] }> {
  const port = await freePort()
  const server = start({ PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: join(dir, `${name}.db`), LOG_LEVEL: 'info' }, nodeArgs)
  await waitForOutput(server, LISTENING)
  const paths = Array.from({ length: REQUESTS }, (_, i) => `/${name}-request-${i}`)
  for (const path of paths) expect((await httpRequest(port, path)).status).toBe(404)
  return { server, paths }
}

/** The access lines of the paths asked for, in the order they were written. */
function accessLinesOf (all: LogLine[], paths: string[]): LogLine[] {
  return all.filter((l) => l.msg === ACCESS_LOG_MESSAGE && l.path !== undefined && paths.includes(l.path))
}

/** The premise: those lines alone would not have filled the buffer. */
function expectSmallerThanTheBuffer (stdout: string, paths: string[]): void {
  const bytes = stdout.split('\n').filter((l) => paths.some((p) => l.includes(`"path":"${p}"`))).reduce((n, l) => n + l.length + 1, 0)
  expect(bytes).toBeGreaterThan(0)
  expect(bytes).toBeLessThan(LOG_BUFFER_BYTES)
}

describe('the buffered log when the process ends', () => {
  it('SIGTERM right after the requests: every access line and the "closed" line are written, exit code 0', async () => {
    const { server, paths } = await serveRequests('sigterm')
    try {
      // At once: no waiting for the buffer's periodic flush.
      server.child.kill('SIGTERM')
      expect(await server.exited).toBe(0)
      const all = lines(server.stdout())
      const access = accessLinesOf(all, paths)
      expect(access.map((l) => l.path)).toEqual(paths)
      expect(access.every((l) => l.status === 404)).toBe(true)
      expect(new Set(access.map((l) => l.reqId)).size).toBe(REQUESTS)
      expectSmallerThanTheBuffer(server.stdout(), paths)
      expect(all.at(-1)).toMatchObject({ level: 30, msg: 'closed' })
    } finally {
      server.child.kill('SIGKILL')
    }
  })

  it('an uncaught exception right after the requests: every access line and the fatal line with the error are written, exit code 1', async () => {
    const { server, paths } = await serveRequests('crash', ['--import', CRASH_FIXTURE])
    try {
      server.child.kill('SIGUSR2')
      expect(await server.exited).toBe(1)
      const all = lines(server.stdout())
      const access = accessLinesOf(all, paths)
      expect(access.map((l) => l.path)).toEqual(paths)
      expectSmallerThanTheBuffer(server.stdout(), paths)
      const fatal = all.filter((l) => l.level === 60)
      expect(fatal).toHaveLength(1)
      expect(fatal[0]).toMatchObject({ msg: 'uncaught exception: exiting', err: { type: 'Error', message: CRASH_MESSAGE } })
      expect(fatal[0]!.err!.stack).toContain('crash-on-signal.mjs')
      expect(all.at(-1)).toBe(fatal[0])
      // The server's own handler took the exception: Node's default report (to standard error) never came.
      expect(server.stderr()).not.toContain(CRASH_MESSAGE)
    } finally {
      server.child.kill('SIGKILL')
    }
  })
})
