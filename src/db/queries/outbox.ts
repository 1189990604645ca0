/**
 * The mail outbox's rows. A message is claimed by one sender at a time: the claim is a single UPDATE of
 * due, unclaimed rows (on PostgreSQL their selection skips rows another sender has locked), and lasts
 * until `claimed_until`, after which another sender may take it over (its sender died mid-delivery).
 */
import type { Kysely } from 'kysely'
import type { Dialect } from '../connect.js'
import type { Database, OutboxMessage } from '../schema.js'

type Q = Kysely<Database>

export interface NewOutboxMessage {
  userId: number | null
  kind: string
  recipient: string
  subject: string
  text: string
  html: string
  now: number
}

export async function insertOutboxMessage (db: Q, m: NewOutboxMessage): Promise<number> {
  const row = await db.insertInto('mail_outbox').values({
    user_id: m.userId,
    kind: m.kind,
    recipient: m.recipient,
    subject: m.subject,
    text_body: m.text,
    html_body: m.html,
    created_at: m.now,
    attempts: 0,
    next_attempt_at: m.now
  }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

/** Whether any message is due and unclaimed: a read, so an idle sender never takes the write lock. */
export async function anyDue (db: Q, now: number): Promise<boolean> {
  const row = await db.selectFrom('mail_outbox').select('id')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
    .limit(1).executeTakeFirst()
  return row !== undefined
}

/** Claims up to `limit` due messages for `leaseMs`, counting the attempt, and returns them oldest first. */
export async function claimDue (db: Q, dialect: Dialect, now: number, leaseMs: number, limit: number): Promise<OutboxMessage[]> {
  const rows = await db.updateTable('mail_outbox')
    .set((eb) => ({ claimed_until: now + leaseMs, attempts: eb('attempts', '+', 1) }))
    .where('id', 'in', (eb) => {
      const due = eb.selectFrom('mail_outbox').select('id')
        .where('next_attempt_at', '<=', now)
        .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<=', now)]))
        .orderBy('id').limit(limit)
      return dialect === 'postgres' ? due.forUpdate().skipLocked() : due
    })
    .returningAll()
    .execute()
  return rows.sort((a, b) => a.id - b.id)
}

/** Delivered: no further attempt. The body is emptied unless kept (the development mailer keeps it to show links). */
export async function markSent (db: Q, id: number, now: number, keepBody: boolean): Promise<void> {
  await db.updateTable('mail_outbox')
    .set({ sent_at: now, next_attempt_at: null, claimed_until: null, last_error: null, ...(keepBody ? {} : { text_body: '', html_body: '' }) })
    .where('id', '=', id).execute()
}

export async function scheduleRetry (db: Q, id: number, at: number, error: string): Promise<void> {
  await db.updateTable('mail_outbox').set({ next_attempt_at: at, claimed_until: null, last_error: error }).where('id', '=', id).execute()
}

/** Given up: the body is emptied, the row stays as the record of what could not be delivered. */
export async function markFailed (db: Q, id: number, now: number, error: string): Promise<void> {
  await db.updateTable('mail_outbox')
    .set({ failed_at: now, next_attempt_at: null, claimed_until: null, last_error: error, text_body: '', html_body: '' })
    .where('id', '=', id).execute()
}

export async function latestMessages (db: Q, limit: number): Promise<OutboxMessage[]> {
  return await db.selectFrom('mail_outbox').selectAll().orderBy('id', 'desc').limit(limit).execute()
}

/** Counts for the operators' metrics: waiting, sent, given up, and when the oldest waiting one was written. */
export async function outboxCounts (db: Q): Promise<{ waiting: number, sent: number, failed: number, oldestWaitingAt: number | null }> {
  const row = await db.selectFrom('mail_outbox').select((eb) => [
    eb.fn.count<number>('id').filterWhere('next_attempt_at', 'is not', null).as('waiting'),
    eb.fn.count<number>('id').filterWhere('sent_at', 'is not', null).as('sent'),
    eb.fn.count<number>('id').filterWhere('failed_at', 'is not', null).as('failed'),
    eb.fn.min<number | null>('created_at').filterWhere('next_attempt_at', 'is not', null).as('oldest')
  ]).executeTakeFirstOrThrow()
  return { waiting: Number(row.waiting), sent: Number(row.sent), failed: Number(row.failed), oldestWaitingAt: row.oldest === null ? null : Number(row.oldest) }
}
