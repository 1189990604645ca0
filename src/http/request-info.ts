/** Who is asking, as recorded with sessions and account events. */
import type { FastifyRequest } from 'fastify'

export function requestInfo (request: FastifyRequest): { ip: string, userAgent: string } {
  const ua = request.headers['user-agent']
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : '' }
}
