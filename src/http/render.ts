/** Sends a page. Pages are personal (navbar, form tokens), so they are never stored by caches. */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Services } from '../services.js'
import type { PageContext } from '../views/context.js'
import { consumeFlash } from './flash.js'
import './types.js'

export function pageContext (request: FastifyRequest, reply: FastifyReply, services: Services): PageContext {
  const user = request.user
  return {
    user: user === null ? null : { id: user.id, fullName: user.fullName, email: user.email, role: user.role },
    csrfToken: typeof request.csrfToken === 'function' ? request.csrfToken : () => '',
    flash: reply.statusCode < 400 ? consumeFlash(request, reply, services) : null,
    path: request.url.split('?')[0] ?? '/'
  }
}

export async function render (reply: FastifyReply, page: JSX.Element, status = 200): Promise<FastifyReply> {
  await reply.code(status).header('cache-control', 'no-store').html(page)
  return reply
}
