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
import { renderedNow } from '../views/sync.js'
import { consumeFlash } from './flash.js'
import './types.js'

/** `flash`: the one-time message when the caller has already taken it (consumeFlash clears it). */
export function pageContext (
  request: FastifyRequest, reply: FastifyReply, services: Services,
  flash = reply.statusCode < 400 ? consumeFlash(request, reply, services) : null
): PageContext {
  const user = request.user
  return {
    user: user === null ? null : { id: user.id, fullName: user.fullName, email: user.email, role: user.role },
    csrfToken: () => reply.csrfToken(),
    flash,
    path: pagePath(request)
  }
}

function pagePath (request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '/'
}

export async function render (reply: FastifyReply, page: JSX.Element, status = 200): Promise<FastifyReply> {
  const html = typeof page === 'string' ? page : await page
  return await send(reply, documentBytes(html), status)
}

function documentBytes (html: string): Buffer {
  return Buffer.from(`<!doctype html>${html}`)
}

async function send (reply: FastifyReply, bytes: Buffer, status: number): Promise<FastifyReply> {
  await reply.code(status)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(bytes)
  return reply
}

export type KeptPageRenderer<D extends object> = (
  request: FastifyRequest, reply: FastifyReply, data: D, page: (ctx: PageContext) => JSX.Element
) => Promise<FastifyReply>

/** Stands for every visitor without a session, whose pages are alike when they carry no form token. */
const ANONYMOUS = Object.freeze({})

/**
 * A page that depends only on who is looking and on `data`, where data is an object the app hands out
 * unchanged while the database is unchanged (the pet catalog's list): its bytes are kept per visitor and
 * sent again while both stay the same objects. A session found in the session cache is the same frozen
 * object on every request until any write empties that cache (decision 0012), and it carries the user and
 * the form token (an HMAC of the session id), so a kept page is never older than the last commit. A page
 * with a one-time message is rendered anew; an anonymous page that needed a form token (which comes from
 * the visitor's own cookie) is not kept. Kept pages go with their session objects, so there are at most as
 * many as cached sessions, plus one anonymous.
 */
export function keptPageRenderer<D extends object> (services: Services): KeptPageRenderer<D> {
  const kept = new WeakMap<object, { data: D, path: string, bytes: Buffer }>()
  return async (request, reply, data, page) => {
    const visitor = request.session ?? ANONYMOUS
    const flash = consumeFlash(request, reply, services)
    const path = pagePath(request)
    const entry = kept.get(visitor)
    if (entry?.data === data && entry.path === path && flash === null) return await send(reply, entry.bytes, 200)
    const ctx = pageContext(request, reply, services, flash)
    let usedFormToken = false
    const formToken = ctx.csrfToken
    ctx.csrfToken = () => {
      usedFormToken = true
      return formToken()
    }
    const bytes = documentBytes(renderedNow(page(ctx)))
    if (flash === null && (visitor !== ANONYMOUS || !usedFormToken)) kept.set(visitor, { data, path, bytes })
    return await send(reply, bytes, 200)
  }
}
