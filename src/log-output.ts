/**
 * Where the server's log lines go: standard output, buffered and written asynchronously (pino's
 * destination, sonic-boom underneath). A synchronous write per line is a system call on the request's
 * path; here lines gather in memory and leave in batches of LOG_BUFFER_BYTES, written by libuv off the
 * main thread, and at least every LOG_FLUSH_INTERVAL_MS when the site is quiet (decision 0022).
 *
 * The lines of a batch are kept as a list and joined once, then handed to sonic-boom as one write.
 * sonic-boom appends each line to its pending string and measures that string's byte length, which makes
 * V8 copy the whole pending string again on every line: with one write per batch that happens once.
 *
 * Nothing buffered may be lost when the process ends:
 * - a graceful shutdown waits for flush() before exiting;
 * - an uncaught exception writes its fatal line, then waits for flush() (a write already on its way
 *   included), and falls back to a synchronous write if that does not come within CRASH_FLUSH_TIMEOUT_MS;
 * - any other exit (process.exit) writes the batch and the buffer synchronously, in an exit listener.
 *
 * The buffer is bounded: if standard output stops taking lines (a stalled pipe, a full log collector),
 * at most LOG_BUFFER_MAX_BYTES wait, and lines past that are dropped rather than growing the process
 * until it is killed; once output moves again, a warning says how many were lost.
 */
import type { FastifyBaseLogger } from 'fastify'
import pino from 'pino'

/** Lines are written once this many bytes wait (about twenty access lines)… */
export const LOG_BUFFER_BYTES = 4096
/** …or after this long, whichever comes first. */
export const LOG_FLUSH_INTERVAL_MS = 1000
/** At most this much waits for a stalled standard output (about 20,000 access lines, a busy second). */
export const LOG_BUFFER_MAX_BYTES = 4 * 1024 * 1024
const CRASH_FLUSH_TIMEOUT_MS = 2000

export interface LogOutput {
  /** What the logger writes to. */
  readonly stream: { write: (line: string) => void, flushSync: () => void }
  /** Resolves once every line written so far has reached standard output. */
  flush: () => Promise<void>
  /** Writes what is buffered now, synchronously: for the last moment of a process. */
  flushSync: () => void
  /** Once output moves again after lines were dropped (the buffer was full), `log` says how many. */
  reportDropsTo: (log: FastifyBaseLogger) => void
}

export function createLogOutput (fd = 1): LogOutput {
  // minLength 1: a batch handed over is written at once, and flush() waits for writes in flight.
  const boom = pino.destination({ dest: fd, sync: false, minLength: 1, maxLength: LOG_BUFFER_MAX_BYTES })
  let batch: string[] = []
  let batchBytes = 0
  const handOver = () => {
    if (batch.length === 0) return
    const lines = batch.join('')
    batch = []
    batchBytes = 0
    boom.write(lines)
  }
  setInterval(handOver, LOG_FLUSH_INTERVAL_MS).unref()
  const flushSync = () => {
    handOver()
    try {
      boom.flushSync()
    } catch {
      // The descriptor is not open yet or already gone: nothing more can be written.
    }
  }
  process.on('exit', flushSync)

  let dropped = 0
  let report: FastifyBaseLogger | undefined
  boom.on('drop', (lines: string) => { dropped += lines.split('\n').length - 1 })
  // 'drain': what waited has gone out, so the warning has room.
  boom.on('drain', () => {
    if (dropped === 0 || report === undefined) return
    const lost = dropped
    dropped = 0
    report.warn({ dropped: lost }, 'log lines dropped: standard output did not keep up')
  })
  return {
    stream: {
      write: (line: string) => {
        batch.push(line)
        batchBytes += line.length
        if (batchBytes >= LOG_BUFFER_BYTES) handOver()
      },
      // pino writes a fatal line out at once through this, as it would with its own destination.
      flushSync
    },
    reportDropsTo: (log) => { report = log },
    flush: async () => {
      handOver()
      await new Promise<void>((resolve) => { boom.flush(() => { resolve() }) })
    },
    flushSync
  }
}

/**
 * An uncaught exception ends the process (as Node's default would), but only after its line and every line
 * before it are written.
 */
export function exitOnUncaughtException (log: FastifyBaseLogger, output: LogOutput): void {
  let crashed = false
  process.on('uncaughtException', (error, origin) => {
    if (crashed) return
    crashed = true
    log.fatal({ err: error, origin }, 'uncaught exception: exiting')
    const exit = () => { process.exit(1) }
    // Not unref()d: a server that has stopped listening must still live until its lines are out.
    setTimeout(() => { output.flushSync(); exit() }, CRASH_FLUSH_TIMEOUT_MS)
    output.flush().then(exit, exit)
  })
}
