/**
 * Mail and the links it carries: confirmed addresses, one-time tokens (password reset, address
 * confirmation and change) stored by their SHA-256, the mail outbox, and the throttling counters of the
 * reset and confirmation requests (the layout of 2026-11-25T1800-throttle-counters). Frozen in time.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely'

type AnyDb = Kysely<any>

const THROTTLE_TABLES = ['throttle_reset_ip', 'throttle_reset_account', 'throttle_verify_account']

function isPostgres (db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter
}

export async function up (db: AnyDb): Promise<void> {
  await db.schema.alterTable('users').addColumn('email_verified_at', 'bigint').execute()

  await db.schema.createTable('one_time_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('password_reset', 'email_verification', 'email_change')`))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('one_time_tokens_user_idx').on('one_time_tokens').columns(['user_id', 'purpose']).execute()
  await db.schema.createIndex('one_time_tokens_expires_at_idx').on('one_time_tokens').column('expires_at').execute()

  const outbox = db.schema.createTable('mail_outbox')
  await (isPostgres(db)
    ? outbox.addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    : outbox.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()))
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text', (c) => c.notNull())
    .addColumn('html_body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('claimed_until', 'bigint')
    .addColumn('sent_at', 'bigint')
    .addColumn('failed_at', 'bigint')
    .addColumn('last_error', 'text')
    .execute()
  await db.schema.createIndex('mail_outbox_next_attempt_at_idx').on('mail_outbox').column('next_attempt_at').execute()
  await db.schema.createIndex('mail_outbox_user_id_idx').on('mail_outbox').column('user_id').execute()

  for (const table of THROTTLE_TABLES) {
    await db.schema.createTable(table)
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('expire', 'bigint')
      .execute()
    await db.schema.createIndex(`${table}_expire_idx`).on(table).column('expire').execute()
  }
}

export async function down (db: AnyDb): Promise<void> {
  for (const table of THROTTLE_TABLES) await db.schema.dropTable(table).execute()
  await db.schema.dropTable('mail_outbox').execute()
  await db.schema.dropTable('one_time_tokens').execute()
  await db.schema.alterTable('users').dropColumn('email_verified_at').execute()
}
