/** The append-only account history shown on the account page. Rows are only ever inserted. */
import type { Kysely } from 'kysely'
import { precompiled } from '../precompiled.js'
import type { AccountEvent, AccountEventType, Database } from '../schema.js'

type Q = Kysely<Database>

export interface EventContext { ip: string, userAgent: string, now: number }

/** Runs on every login and logout: compiled once (precompiled). */
const insertEvent = precompiled((db: Q, userId: number, type: AccountEventType, ip: string, userAgent: string, createdAt: number) =>
  db.insertInto('account_events').values({ user_id: userId, type, ip, user_agent: userAgent, created_at: createdAt }))

export async function recordEvent (db: Q, userId: number, type: AccountEventType, ctx: EventContext): Promise<void> {
  await insertEvent(db, userId, type, ctx.ip, ctx.userAgent.slice(0, 512), ctx.now)
}

export async function recentEvents (db: Q, userId: number, limit = 20): Promise<AccountEvent[]> {
  return await db.selectFrom('account_events').selectAll()
    .where('user_id', '=', userId).orderBy('id', 'desc').limit(limit).execute()
}
