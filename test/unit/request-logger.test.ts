/** The per-request logger: the same lines as pino's own child(), request id included, redaction intact. */
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { LOG_REDACT_PATHS } from '../../src/app.js'
import { requestLogger } from '../../src/http/request-logger.js'

function logger (lines: string[]) {
  return pino({ level: 'info', base: null, timestamp: false, redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } }, { write: (line: string) => { lines.push(line) } })
}

describe('requestLogger', () => {
  it('writes exactly what logger.child({ reqId }) writes, with secrets still redacted', () => {
    const ours: string[] = []
    const pinos: string[] = []
    const id = '2f1c9a5e-5a43-4c1e-9d4f-0c2b8f3e7a10'
    const call = { userId: 7, body: { email: 'a@b.c', password: 'hunter2-hunter2' }, form: { token: 'secret-token' } }
    requestLogger.call(null as never, logger(ours), { reqId: id }, {}, {} as never).info(call, 'signed in')
    logger(pinos).child({ reqId: id }).info(call, 'signed in')
    expect(ours).toEqual(pinos)
    expect(JSON.parse(ours[0]!)).toEqual({
      level: 30, reqId: id, userId: 7, body: { email: 'a@b.c', password: '[redacted]' }, form: { token: '[redacted]' }, msg: 'signed in'
    })
    expect(ours[0]).not.toContain('hunter2')
  })

  it('takes pino\'s own path for any other binding or option', () => {
    const lines: string[] = []
    const child = requestLogger.call(null as never, logger(lines), { reqId: 'x', extra: { password: 'p' } }, {}, {} as never)
    child.info('hello')
    expect(JSON.parse(lines[0]!)).toEqual({ level: 30, reqId: 'x', extra: { password: '[redacted]' }, msg: 'hello' })
    const quiet = requestLogger.call(null as never, logger(lines), { reqId: 'y' }, { level: 'error' }, {} as never)
    quiet.info('not written')
    expect(lines).toHaveLength(1)
  })
})
