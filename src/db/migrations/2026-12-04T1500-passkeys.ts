/**
 * Passkeys (WebAuthn): each registered credential belongs to one account (its id is unique across the
 * site) with its COSE public key as base64url text and its signature counter; the ceremonies' challenges
 * wait server-side, by the SHA-256 of the token in the browser's cookie, for five minutes at most.
 * Frozen in time.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely'

type AnyDb = Kysely<any>

function isPostgres (db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter
}

export async function up (db: AnyDb): Promise<void> {
  const passkeys = db.schema.createTable('passkeys')
  await (isPostgres(db)
    ? passkeys.addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    : passkeys.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()))
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull())
    .addColumn('transports', 'text', (c) => c.notNull())
    .addColumn('device_type', 'text', (c) => c.notNull())
    .addColumn('backed_up', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute()
  await db.schema.createIndex('passkeys_user_id_idx').on('passkeys').column('user_id').execute()

  await db.schema.createTable('webauthn_challenges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('register', 'login')`))
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('challenge', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('webauthn_challenges_expires_at_idx').on('webauthn_challenges').column('expires_at').execute()
}

export async function down (db: AnyDb): Promise<void> {
  await db.schema.dropTable('webauthn_challenges').execute()
  await db.schema.dropTable('passkeys').execute()
}
