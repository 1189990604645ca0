/**
 * Where the server's log lines go: standard output, buffered and written asynchronously (pino's
 * destination, sonic-boom underneath). A synchronous write per line is a system call on the request's
 * path; here lines gather in memory and leave in batches of LOG_BUFFER_BYTES, written by libuv off the
 * main thread, and at least every LOG_FLUSH_INTERVAL_MS when the site is quiet (decision 0022).
 *
 * Nothing buffered may be lost when the process ends:
 * - a graceful shutdown waits for flush() before exiting;
 * - an uncaught exception writes its fatal line, then waits for flush() (a write already on its way
 *   included), and falls back to a synchronous write if that does not come within CRASH_FLUSH_TIMEOUT_MS;
 * - any other exit (process.exit) is covered by pino's own exit hook, which writes the buffer synchronously.
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
  readonly stream: { write: (line: string) => void }
  /** Resolves once every line written so far has reached standard output. */
  flush: () => Promise<void>
  /** Writes what is buffered now, synchronously: for the last moment of a process. */
  flushSync: () => void
  /** Once output moves again after lines were dropped (the buffer was full), `log` says how many. */
  reportDropsTo: (log: FastifyBaseLogger) => void
}

export function createLogOutput (fd = 1): LogOutput {
  const stream = pino.destination({ dest: fd, sync: false, minLength: LOG_BUFFER_BYTES, maxLength: LOG_BUFFER_MAX_BYTES, periodicFlush: LOG_FLUSH_INTERVAL_MS })
  let dropped = 0
  let report: FastifyBaseLogger | undefined
  stream.on('drop', () => { dropped++ })
  // 'drain': what waited has gone out, so the warning has room.
  stream.on('drain', () => {
    if (dropped === 0 || report === undefined) return
    const lost = dropped
    dropped = 0
    report.warn({ dropped: lost }, 'log lines dropped: standard output did not keep up')
  })
  return {
    stream,
    reportDropsTo: (log) => { report = log },
    flush: async () => { await new Promise<void>((resolve) => { stream.flush(() => { resolve() }) }) },
    flushSync: () => {
      try {
        stream.flushSync()
      } catch {
        // The descriptor is not open yet or already gone: nothing more can be written.
      }
    }
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
