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
 */
import type { FastifyBaseLogger } from 'fastify'
import pino from 'pino'

/** Lines are written once this many bytes wait (about twenty access lines)… */
export const LOG_BUFFER_BYTES = 4096
/** …or after this long, whichever comes first. */
export const LOG_FLUSH_INTERVAL_MS = 1000
const CRASH_FLUSH_TIMEOUT_MS = 2000

export interface LogOutput {
  /** What the logger writes to. */
  readonly stream: { write: (line: string) => void }
  /** Resolves once every line written so far has reached standard output. */
  flush: () => Promise<void>
  /** Writes what is buffered now, synchronously: for the last moment of a process. */
  flushSync: () => void
}

export function createLogOutput (fd = 1): LogOutput {
  const stream = pino.destination({ dest: fd, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_INTERVAL_MS })
  return {
    stream,
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
