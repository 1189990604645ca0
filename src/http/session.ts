/**
 * Turns the session cookie into request.user and request.session once per request (null when
 * anonymous), and offers the two ways a session cookie changes: issued at login, cleared at logout.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { IssuedSession } from '../auth/sessions.js'
import { requestInfo } from './request-info.js'
import type { Services } from '../services.js'
import { cookieOptions } from './cookies.js'
import './types.js'

export const sessionPlugin = fp<{ services: Services }>(async (app, { services }) => {
  const { sessions, cookies } = services
  app.decorateRequest('user', null)
  app.decorateRequest('session', null)

  // A callback hook: a visitor without a session cookie costs no promise.
  app.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
    const token = request.cookies[cookies.session]
    if (token === undefined || request.url.startsWith('/static/')) {
      done()
      return
    }
    sessions.resolve(token).then((found) => {
      if (found !== null) {
        request.user = found.user
        request.session = found.session
      }
      done()
    }, done)
  })
}, { name: 'paws-session', dependencies: ['@fastify/cookie'] })

/** Replaces whatever session the browser had with a new one (no fixation) and sets the cookie. */
export async function startSession (request: FastifyRequest, reply: FastifyReply, services: Services, userId: number, remember: boolean): Promise<void> {
  if (request.session !== null) await services.sessions.destroy(request.session.id)
  const issued = await services.sessions.create({ userId, remember, ...requestInfo(request) })
  setSessionCookie(reply, services, issued)
}

export function setSessionCookie (reply: FastifyReply, services: Services, issued: IssuedSession): void {
  reply.setCookie(services.cookies.session, issued.token, cookieOptions(services.config.session.secureCookie, issued.cookieMaxAgeMs))
}

export function clearSessionCookie (reply: FastifyReply, services: Services): void {
  reply.clearCookie(services.cookies.session, cookieOptions(services.config.session.secureCookie))
}
