/**
 * The first schema: users, pets, sessions, account events and a small key-value table for one-time
 * markers. Written with Kysely's schema builder so one file serves SQLite and PostgreSQL; frozen in time.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely'

type AnyDb = Kysely<any>

function isPostgres (db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter
}

function idColumn (db: AnyDb) {
  return isPostgres(db)
    ? (t: ReturnType<AnyDb['schema']['createTable']>) => t.addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    : (t: ReturnType<AnyDb['schema']['createTable']>) => t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
}

export async function up (db: AnyDb): Promise<void> {
  const withId = idColumn(db)

  await withId(db.schema.createTable('users'))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('full_name', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('staff', 'adopter')`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()

  await withId(db.schema.createTable('pets'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull().unique())
    .addColumn('age', 'text', (c) => c.notNull())
    .addColumn('bio', 'text', (c) => c.notNull())
    .addColumn('picture', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()

  await db.schema.createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('remember', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('user_agent', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('ip', 'text', (c) => c.notNull().defaultTo(''))
    .execute()
  await db.schema.createIndex('sessions_user_id_idx').on('sessions').column('user_id').execute()
  await db.schema.createIndex('sessions_expires_at_idx').on('sessions').column('expires_at').execute()
  await db.schema.createIndex('sessions_last_seen_at_idx').on('sessions').column('last_seen_at').execute()

  await withId(db.schema.createTable('account_events'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('user_agent', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('account_events_user_id_idx').on('account_events').columns(['user_id', 'id']).execute()
  // Append-only: an event, once written, cannot be rewritten.
  if (isPostgres(db)) {
    await sql`create function account_events_append_only() returns trigger language plpgsql as $$
      begin raise exception 'account_events is append-only'; end $$`.execute(db)
    await sql`create trigger account_events_no_update before update on account_events
      for each row execute function account_events_append_only()`.execute(db)
  } else {
    await sql`create trigger account_events_no_update before update on account_events
      begin select raise(abort, 'account_events is append-only'); end`.execute(db)
  }

  await db.schema.createTable('app_meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute()
}

export async function down (db: AnyDb): Promise<void> {
  await sql`drop trigger if exists account_events_no_update${sql.raw(isPostgres(db) ? ' on account_events' : '')}`.execute(db)
  if (isPostgres(db)) await sql`drop function if exists account_events_append_only()`.execute(db)
  for (const table of ['app_meta', 'account_events', 'sessions', 'pets', 'users']) {
    await db.schema.dropTable(table).execute()
  }
}
