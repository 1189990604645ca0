/**
 * Sends a page. Pages are personal (navbar, form tokens), so they are never stored by caches.
 *
 * The page is turned into bytes once: the rendered string (a rope of many small pieces) is flattened and
 * encoded by Buffer.from, whose length is the Content-Length. (@kitajs/fastify-html-plugin, used before,
 * scanned the string for <html with a regular expression, measured its byte length and left Node to encode
 * it again: three passes over every page; the profile showed them.) Every page is a whole document, so
 * the doctype is always added; no page uses asynchronous components.
 */
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
  const html = typeof page === 'string' ? page : await page
  await reply.code(status)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(Buffer.from(`<!doctype html>${html}`))
  return reply
}
