/**
 * Route guards that read like the rule they enforce; used as preHandler hooks. A guard that answers
 * returns the reply, as Fastify asks of async hooks that respond.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { safeNextPath } from '../auth/safe-redirect.js'
import { HttpError } from './errors.js'
import { setFlash } from './flash.js'
import './types.js'

function sendToLogin (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const next = request.method === 'GET' ? safeNextPath(request.url) : '/'
  return reply.redirect(next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`, 303)
}

export async function requireUser (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.user === null) return sendToLogin(request, reply)
}

/**
 * The one gate of every staff page (pets, people): staff only; with REQUIRE_STAFF_TWO_FACTOR, staff without
 * two-factor authentication are sent to set it up first.
 */
export async function requireStaff (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.user === null) return sendToLogin(request, reply)
  if (request.user.role !== 'staff') {
    throw new HttpError(403, 'Staff only', 'Only the rescue team can do this. If you think you should have access, please contact us.', 'not staff')
  }
  const { services } = request.server
  if (services.config.twoFactor.requiredForStaff && !request.user.twoFactorEnabled) {
    setFlash(reply, services, 'staff-two-factor-required')
    return reply.redirect('/account/two-factor', 303)
  }
}

export async function requireAnonymous (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.user !== null) return reply.redirect('/', 303)
}
