/** What the per-request hooks attach to every request; null means anonymous / nothing. */
import type { SessionWithUser } from '../db/queries/sessions.js'

export type SessionUser = SessionWithUser['user']
export type CurrentSession = SessionWithUser['session']

declare module 'fastify' {
  interface FastifyRequest {
    user: SessionUser | null
    session: CurrentSession | null
  }
  interface FastifyReply {
    /** The form token for this visitor; creates the anonymous token cookie when first needed. */
    csrfToken: () => string
  }
}
