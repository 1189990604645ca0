/**
 * The server's log output (src/log-output.ts) when standard output stops taking lines: the buffer stops
 * at LOG_BUFFER_MAX_BYTES instead of growing, and once output moves again a warning says how many lines
 * were lost. A child process logs into a pipe this test does not read until the child says it is done.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireBuild } from '../helpers/server-process.js'

const LOG_OUTPUT = pathToFileURL(join(import.meta.dirname, '../../dist/src/log-output.js')).href
const PINO = pathToFileURL(createRequire(import.meta.url).resolve('pino')).href
/** Each line is about 300 bytes: 20,000 of them are more than the 4 MiB bound and a pipe's buffer. */
const LINES = 20_000

let dir: string

beforeAll(() => {
  requireBuild()
  dir = mkdtempSync(join(tmpdir(), 'paws-log-drops-'))
})

afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

describe('the log output when standard output stalls', () => {
  it('keeps at most its bound, drops the rest, and says how many it dropped once output moves', async () => {
    const script = join(dir, 'stalled.mjs')
    writeFileSync(script, `
      import { pino } from ${JSON.stringify(PINO)}
      const { createLogOutput, LOG_BUFFER_MAX_BYTES } = await import(${JSON.stringify(LOG_OUTPUT)})
      const output = createLogOutput()
      const log = pino({}, output.stream)
      output.reportDropsTo(log)
      const padding = 'x'.repeat(200)
      for (let i = 0; i < ${LINES}; i++) log.info({ i, padding }, 'line')
      // The parent starts reading once told; the warning comes with the next write that goes out.
      process.stderr.write('written ' + LOG_BUFFER_MAX_BYTES + '\\n')
      await new Promise((resolve) => process.stdin.once('data', resolve))
      process.stdin.destroy()
      await output.flush()
      log.info('last line')
      await output.flush()
    `)
    const child = spawn(process.execPath, [script], { cwd: join(import.meta.dirname, '../..'), stdio: ['pipe', 'pipe', 'pipe'] })
    child.stdout.pause()
    let stderr = ''
    const written = new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk) => {
        stderr += String(chunk)
        if (stderr.includes('written')) resolve()
      })
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    await Promise.race([written, exited])
    expect(stderr).toMatch(/^written \d+/)
    let stdout = ''
    child.stdout.on('data', (chunk) => { stdout += String(chunk) })
    child.stdout.resume()
    child.stdin.end('go\n')
    expect(await exited).toBe(0)

    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string, i?: number, dropped?: number })
    const kept = lines.filter((l) => l.msg === 'line')
    const warning = lines.find((l) => l.msg === 'log lines dropped: standard output did not keep up')
    expect(kept.length).toBeGreaterThan(0)
    expect(kept.length).toBeLessThan(LINES)
    // The lines kept are whole (each parsed), in order, each once; the count of the others is reported.
    const order = kept.map((l) => l.i!)
    expect(order.every((i, n) => n === 0 || i > order[n - 1]!)).toBe(true)
    expect(order.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, n) => n))
    expect(warning?.dropped).toBe(LINES - kept.length)
    // Held in memory at most: the bound, and the one write that had already left for the pipe.
    const bound = Number(/^written (\d+)/.exec(stderr)![1])
    const keptBytes = stdout.split('\n').filter((l) => l.includes('"msg":"line"')).reduce((n, l) => n + l.length + 1, 0)
    expect(keptBytes).toBeLessThanOrEqual(bound + 16 * 1024)
    expect(lines.at(-1)?.msg).toBe('last line')
  })
})
