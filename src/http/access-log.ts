/**
 * One line per answered request, at info: who asked for what and how it went. Fastify's own request
 * logging (an "incoming request" line and a "request completed" line, each with the whole URL, and a
 * "Route … not found" line with the URL) is replaced through its LogController with the one line:
 *
 *   {"level":30,…,"reqId":"…","method":"GET","route":"/pets/:id","status":200,"ms":1.42,"userId":7,"msg":"request"}
 *
 * The route is the pattern the router matched, never the URL: a URL can carry a token (emailed links) or
 * an address in its query string. A request that matched no route shows its path instead, without the
 * query string and with any emailed-link token cut off. A response that failed on its way out (the
 * connection broke) is the same line at error, with the error. "incoming request", with the URL as the
 * `req` serializer shows it (app.ts), is written only at debug or finer. Below info, nothing is built.
 *
 * The line is written straight to the app logger's output, in pino's format, without pino's general path:
 * pino 10's redaction walks every configured path on every call (@pinojs/redact: a fifth of a page view's
 * time at info in the profile), and its loop over fields was most of what remained. Every field here is
 * built from safe parts (the route pattern, numbers, a UUID; decision 0022); anything else logged about a
 * request still goes through the logger and its redaction.
 */
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify'
import { hostname } from 'node:os'
import { type DestinationStream, levels } from 'pino'
import { REQUEST_ID_LABEL } from './request-logger.js'
import { redactTokenPaths } from './token-paths.js'

/** The message of the access line, to find it among the others. */
export const ACCESS_LOG_MESSAGE = 'request'
/** A path written for an unmatched route is cut at this length: a probe's URL can be long. */
const MAX_LOGGED_PATH = 200

/** What the access line shows of a request that matched no route: its path, without query or token. */
export function loggablePath (url: string): string {
  const query = url.indexOf('?')
  const path = redactTokenPaths(query === -1 ? url : url.slice(0, query))
  return path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path
}

function accessLine (request: FastifyRequest, status: number, elapsedMs: number) {
  const route = request.routeOptions.url
  return {
    [REQUEST_ID_LABEL]: request.id,
    method: request.method,
    ...(route !== undefined ? { route } : { path: loggablePath(request.url) }),
    status,
    ms: Math.round(elapsedMs * 100) / 100,
    ...(request.user !== null ? { userId: request.user.id } : {})
  }
}

function writes (configured: string, level: 'info' | 'debug'): boolean {
  return (levels.values[configured] ?? Infinity) <= levels.values[level]!
}

/**
 * The access line as pino writes a line at info (level, time, pid, hostname, then the fields and msg), put
 * together directly: its shape never changes, and pino's general path (a loop over the fields, a check for
 * a serializer on each) was most of what the line cost.
 */
function accessLineJson (base: string, request: FastifyRequest, status: number, elapsedMs: number): string {
  const route = request.routeOptions.url
  const where = route !== undefined ? `"route":${JSON.stringify(route)}` : `"path":${JSON.stringify(loggablePath(request.url))}`
  const user = request.user !== null ? `,"userId":${request.user.id}` : ''
  return `{"level":${levels.values.info!},"time":${Date.now()}${base},"${REQUEST_ID_LABEL}":${JSON.stringify(request.id)},"method":${JSON.stringify(request.method)},${where},"status":${status},"ms":${Math.round(elapsedMs * 100) / 100}${user},"msg":"${ACCESS_LOG_MESSAGE}"}\n`
}

export class AccessLog extends LogController {
  private readonly info: boolean
  private readonly debug: boolean
  private readonly base = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`

  /** `level` and `stream` are the app logger's. */
  constructor (level: string, private readonly stream: DestinationStream) {
    super()
    this.info = writes(level, 'info')
    this.debug = writes(level, 'debug')
  }

  override incomingRequest (request: FastifyRequest): void {
    if (this.debug) request.log.debug({ req: request }, 'incoming request')
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error != null) {
      request.log.error({ ...accessLine(request, reply.statusCode, reply.elapsedTime), err: error }, ACCESS_LOG_MESSAGE)
    } else if (this.info) {
      this.stream.write(accessLineJson(this.base, request, reply.statusCode, reply.elapsedTime))
    }
  }

  /** The access line says it: the route is missing and the path is shown, without its query. */
  override routeNotFound (): void {}
}
