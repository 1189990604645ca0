/**
 * Two-factor authentication: the account's TOTP secret (encrypted; a pending one while it is being set
 * up), the last time step a code was accepted at (no replay), hashed single-use recovery codes, and the
 * pending logins that wait for a second factor (by the SHA-256 of their cookie's token). Frozen in time.
 */
import type { Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('two_factor_secret', 'text').execute()
  await db.schema.alterTable('users').addColumn('two_factor_pending_secret', 'text').execute()
  await db.schema.alterTable('users').addColumn('two_factor_enabled_at', 'bigint').execute()
  await db.schema.alterTable('users').addColumn('two_factor_last_step', 'bigint').execute()

  await db.schema.createTable('recovery_codes')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('recovery_codes_user_id_idx').on('recovery_codes').column('user_id').execute()

  await db.schema.createTable('pending_logins')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('next', 'text', (c) => c.notNull())
    .addColumn('remember', 'integer', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('pending_logins_expires_at_idx').on('pending_logins').column('expires_at').execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('pending_logins').execute()
  await db.schema.dropTable('recovery_codes').execute()
  for (const column of ['two_factor_last_step', 'two_factor_enabled_at', 'two_factor_pending_secret', 'two_factor_secret']) {
    await db.schema.alterTable('users').dropColumn(column).execute()
  }
}
