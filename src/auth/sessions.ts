/**
 * Server-side sessions. The browser holds a random token; the database holds its SHA-256. A session is
 * honoured only before its absolute expiry and while it has been used within its idle timeout; last-seen
 * is written at most once per interval, so reading pages does not turn into a write per request.
 */
import type { Config } from '../config.js'
import { keptWhileUnchanged } from '../db/change-signal.js'
import type { Db } from '../db/connect.js'
import * as q from '../db/queries/sessions.js'
import type { SessionWithUser } from '../db/queries/sessions.js'
import type { SessionRow } from '../db/schema.js'
import { type Metrics, NO_METRICS } from '../metrics/metrics.js'
import { hashToken, looksLikeToken, newToken } from './tokens.js'

export type Clock = () => number

export interface NewSessionInput {
  userId: number
  remember: boolean
  userAgent: string
  ip: string
}

export interface IssuedSession {
  token: string
  id: string
  /** Milliseconds the cookie should persist, or null for a cookie that ends with the browser. */
  cookieMaxAgeMs: number | null
}

export interface SessionManager {
  create: (input: NewSessionInput) => Promise<IssuedSession>
  /** The session and its user for a cookie value, or null when the token is unknown or expired. */
  resolve: (token: string | undefined) => Promise<SessionWithUser | null>
  destroy: (id: string) => Promise<void>
  sweep: () => Promise<number>
  /** Whether a stored session may still be honoured now. */
  isLive: (session: Pick<SessionRow, 'expires_at' | 'last_seen_at' | 'remember'>) => boolean
}

const MAX_USER_AGENT_LENGTH = 512

/** The one rule for a live session: before its absolute expiry, and used within its idle timeout. */
export function isSessionLive (
  session: Pick<SessionRow, 'expires_at' | 'last_seen_at' | 'remember'>, now: number, policy: Config['session']
): boolean {
  const idleTimeoutMs = session.remember === 1 ? policy.rememberIdleTimeoutMs : policy.idleTimeoutMs
  return now < session.expires_at && now - session.last_seen_at < idleTimeoutMs
}

/**
 * The sessions that cookies resolved to are kept in memory while nothing is written to the database
 * (src/db/change-signal.ts): a logout in another process, a password change, a revocation from
 * the CLI or a last-seen update empties them, so a session is never honoured after its row is gone.
 * Liveness is still checked against the clock on every request. Keyed by the token's SHA-256, like the
 * table; unknown tokens are not kept. At most this many.
 */
const SESSION_CACHE_SIZE = 10_000

export function createSessionManager (db: Db, policy: Config['session'], clock: Clock, metrics: Metrics = NO_METRICS): SessionManager {
  const keptSession = keptWhileUnchanged<SessionWithUser | undefined>(db.changes, SESSION_CACHE_SIZE)
  const findSession = async (id: string) => await keptSession(id, async () => {
    const found = await q.findSessionWithUser(db.kysely, id)
    return found === undefined ? undefined : Object.freeze({ session: Object.freeze(found.session), user: Object.freeze(found.user) })
  })
  return {
    isLive: (session) => isSessionLive(session, clock(), policy),

    async create ({ userId, remember, userAgent, ip }) {
      const token = newToken()
      const id = hashToken(token)
      const now = clock()
      const lifetimeMs = remember ? policy.rememberAbsoluteTimeoutMs : policy.absoluteTimeoutMs
      await q.insertSession(db.kysely, {
        id,
        user_id: userId,
        created_at: now,
        last_seen_at: now,
        expires_at: now + lifetimeMs,
        remember: remember ? 1 : 0,
        user_agent: userAgent.slice(0, MAX_USER_AGENT_LENGTH),
        ip
      })
      metrics.sessionsCreated(1)
      return { token, id, cookieMaxAgeMs: remember ? lifetimeMs : null }
    },

    async resolve (token) {
      if (!looksLikeToken(token)) return null
      const id = hashToken(token)
      const found = await findSession(id)
      if (found === undefined) return null
      const now = clock()
      const { session } = found
      if (!isSessionLive(session, now, policy)) {
        metrics.sessionsEnded(await q.deleteSession(db.kysely, id))
        return null
      }
      if (now - session.last_seen_at >= policy.lastSeenWriteIntervalMs) {
        await q.touchSession(db.kysely, id, now)
        return { ...found, session: { ...session, last_seen_at: now } }
      }
      return found
    },

    async destroy (id) {
      metrics.sessionsEnded(await q.deleteSession(db.kysely, id))
    },

    async sweep () {
      const ended = await q.deleteExpiredSessions(db.kysely, {
        now: clock(),
        idleTimeoutMs: policy.idleTimeoutMs,
        rememberIdleTimeoutMs: policy.rememberIdleTimeoutMs
      })
      metrics.sessionsEnded(ended)
      return ended
    }
  }
}
