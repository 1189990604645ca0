/**
 * The logger each request gets, carrying the request's id. pino's child() passes every binding through
 * the redaction, and our wildcard redaction paths (LOG_REDACT_PATHS, `*.password` and the like) make that
 * a deep walk: the profile of a page view put it at 7% of the time. The only binding Fastify adds is the
 * request id, a UUID this app generates (genReqId), so the child is made with no bindings and the id is
 * appended to its serialised bindings directly, in pino's own format (pino.symbols is pino's interface
 * for this). Log lines are the same, every field of a log call is still redacted, and any other binding
 * or option takes the ordinary path.
 */
import type { FastifyServerOptions } from 'fastify'
import { symbols } from 'pino'

const { chindingsSym } = symbols
/** Fastify's label for the request id in log lines (its default, which this app keeps). */
export const REQUEST_ID_LABEL = 'reqId'

export const requestLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = function (logger, bindings, options) {
  const keys = Object.keys(bindings)
  const id = bindings[REQUEST_ID_LABEL]
  if (keys.length !== 1 || typeof id !== 'string' || Object.keys(options).length > 0) return logger.child(bindings, options)
  const child = logger.child({}) as typeof logger & { [chindingsSym]: string }
  child[chindingsSym] += `,${JSON.stringify(REQUEST_ID_LABEL)}:${JSON.stringify(id)}`
  return child
}
