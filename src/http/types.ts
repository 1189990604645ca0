/** What the per-request hooks attach to every request; null means anonymous / nothing. */
import type { SessionWithUser } from '../db/queries/sessions.js'

export type SessionUser = SessionWithUser['user']
export type CurrentSession = SessionWithUser['session']

declare module 'fastify' {
  interface FastifyRequest {
    user: SessionUser | null
    session: CurrentSession | null
    /** The one-time message waiting for this visitor, if any. */
    flash: string | null
    /** The form token for this visitor; creates the anonymous token cookie when first needed. */
    csrfToken: () => string
  }
}
