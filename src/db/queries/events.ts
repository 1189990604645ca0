/** The append-only account history shown on the account page. Rows are only ever inserted. */
import type { Kysely } from 'kysely'
import { precompiled } from '../precompiled.js'
import type { AccountEvent, AccountEventType, Database } from '../schema.js'

type Q = Kysely<Database>

export interface EventContext {
  ip: string
  userAgent: string
  now: number
  /** The staff member acting on someone else's account; absent when the owner acts (or the CLI, ip 'cli'). */
  actorUserId?: number | null
}

/** Runs on every login and logout: compiled once (precompiled). */
const insertEvent = precompiled((db: Q, userId: number, type: AccountEventType, ip: string, userAgent: string, createdAt: number,
  actorUserId: number | null, detail: string | null) =>
  db.insertInto('account_events').values({ user_id: userId, type, ip, user_agent: userAgent, created_at: createdAt, actor_user_id: actorUserId, detail }))

export async function recordEvent (db: Q, userId: number, type: AccountEventType, ctx: EventContext, detail: string | null = null): Promise<void> {
  await insertEvent(db, userId, type, ctx.ip, ctx.userAgent.slice(0, 512), ctx.now, ctx.actorUserId ?? null, detail)
}

/** The newest events of the account, newest first; `beforeId` continues a page from the last id shown. */
export async function recentEvents (db: Q, userId: number, limit = 20, beforeId?: number): Promise<AccountEvent[]> {
  let query = db.selectFrom('account_events').selectAll().where('user_id', '=', userId)
  if (beforeId !== undefined) query = query.where('id', '<', beforeId)
  return await query.orderBy('id', 'desc').limit(limit).execute()
}

/** When the account last logged in (its newest 'login' event), if ever. */
export async function lastLogin (db: Q, userId: number): Promise<number | undefined> {
  const row = await db.selectFrom('account_events').select('created_at')
    .where('user_id', '=', userId).where('type', '=', 'login').orderBy('id', 'desc').limit(1).executeTakeFirst()
  return row === undefined ? undefined : Number(row.created_at)
}
