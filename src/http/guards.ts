/** Route guards that read like the rule they enforce; used as preHandler hooks. */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { safeNextPath } from '../auth/safe-redirect.js'
import { HttpError } from './errors.js'
import './types.js'

function sendToLogin (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const next = request.method === 'GET' ? safeNextPath(request.url) : '/'
  return reply.redirect(next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`, 303)
}

export async function requireUser (request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.user === null) await sendToLogin(request, reply)
}

export async function requireStaff (request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.user === null) {
    await sendToLogin(request, reply)
    return
  }
  if (request.user.role !== 'staff') {
    throw new HttpError(403, 'Staff only', 'Only the rescue team can change pets. If you think you should have access, please contact us.', 'not staff')
  }
}

export async function requireAnonymous (request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.user !== null) await reply.redirect('/', 303)
}
