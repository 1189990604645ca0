/** The append-only account history shown on the account page. Rows are only ever inserted. */
import type { Kysely } from 'kysely'
import type { AccountEvent, AccountEventType, Database } from '../schema.js'

type Q = Kysely<Database>

export interface EventContext { ip: string, userAgent: string, now: number }

export async function recordEvent (db: Q, userId: number, type: AccountEventType, ctx: EventContext): Promise<void> {
  await db.insertInto('account_events')
    .values({ user_id: userId, type, ip: ctx.ip, user_agent: ctx.userAgent.slice(0, 512), created_at: ctx.now })
    .execute()
}

export async function recentEvents (db: Q, userId: number, limit = 20): Promise<AccountEvent[]> {
  return await db.selectFrom('account_events').selectAll()
    .where('user_id', '=', userId).orderBy('id', 'desc').limit(limit).execute()
}
