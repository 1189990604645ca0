/** Session rows, keyed by the SHA-256 of the token. Validity rules live in auth/sessions.ts. */
import type { Kysely } from 'kysely'
import { precompiled } from '../precompiled.js'
import type { Database, Role, SessionRow } from '../schema.js'

type Q = Kysely<Database>

export interface SessionWithUser {
  session: SessionRow
  user: { id: number, email: string, fullName: string, role: Role, createdAt: number, twoFactorEnabled: boolean }
}

/** Runs on every login: compiled once (precompiled). */
const insertSessionRow = precompiled((db: Q, id: string, userId: number, createdAt: number, lastSeenAt: number, expiresAt: number,
  remember: number, userAgent: string, ip: string) => db.insertInto('sessions').values({
  id, user_id: userId, created_at: createdAt, last_seen_at: lastSeenAt, expires_at: expiresAt, remember, user_agent: userAgent, ip
}))

export async function insertSession (db: Q, row: SessionRow): Promise<void> {
  await insertSessionRow(db, row.id, row.user_id, row.created_at, row.last_seen_at, row.expires_at, row.remember, row.user_agent, row.ip)
}

/** Runs on every request: compiled once (precompiled). */
const selectSessionWithUser = precompiled((db: Q, id: string) => db.selectFrom('sessions')
  .innerJoin('users', 'users.id', 'sessions.user_id')
  .select([
    'sessions.id', 'sessions.user_id', 'sessions.created_at', 'sessions.last_seen_at', 'sessions.expires_at',
    'sessions.remember', 'sessions.user_agent', 'sessions.ip',
    'users.email', 'users.full_name', 'users.role', 'users.created_at as user_created_at', 'users.two_factor_enabled_at'
  ])
  .where('sessions.id', '=', id))

export async function findSessionWithUser (db: Q, id: string): Promise<SessionWithUser | undefined> {
  const [row] = (await selectSessionWithUser(db, id)).rows
  if (row === undefined) return undefined
  const { email, full_name: fullName, role, user_created_at: createdAt, two_factor_enabled_at: twoFactorEnabledAt, ...session } = row
  return { session, user: { id: session.user_id, email, fullName, role, createdAt, twoFactorEnabled: twoFactorEnabledAt !== null } }
}

export async function touchSession (db: Q, id: string, now: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute()
}

/** How many rows went: 0 when another request or process ended the session first. */
export async function deleteSession (db: Q, id: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('id', '=', id).executeTakeFirst()
  return Number(result.numDeletedRows)
}

/** Deletes one of the user's sessions; the user id stops anyone ending a session that is not theirs. */
export async function deleteUserSession (db: Q, userId: number, id: string): Promise<boolean> {
  const result = await db.deleteFrom('sessions').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst()
  return result.numDeletedRows > 0n
}

export async function deleteUserSessions (db: Q, userId: number, exceptId?: string): Promise<number> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId)
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId)
  const result = await query.executeTakeFirst()
  return Number(result.numDeletedRows)
}

export async function listUserSessions (db: Q, userId: number): Promise<SessionRow[]> {
  return await db.selectFrom('sessions').selectAll().where('user_id', '=', userId).orderBy('last_seen_at', 'desc').execute()
}

export interface ExpiryRule { now: number, idleTimeoutMs: number, rememberIdleTimeoutMs: number }

/** Deletes every session past its absolute lifetime or its idle timeout. */
export async function deleteExpiredSessions (db: Q, { now, idleTimeoutMs, rememberIdleTimeoutMs }: ExpiryRule): Promise<number> {
  const result = await db.deleteFrom('sessions')
    .where((eb) => eb.or([
      eb('expires_at', '<=', now),
      eb.and([eb('remember', '=', 0), eb('last_seen_at', '<=', now - idleTimeoutMs)]),
      eb.and([eb('remember', '=', 1), eb('last_seen_at', '<=', now - rememberIdleTimeoutMs)])
    ]))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
