/**
 * The throttling counters' tables, for when they live in the database (several processes and no Redis).
 * Created here, once and under the migration lock, rather than by the rate limiter at start-up, where
 * several processes racing to create them made the first requests fail. The layout is the one
 * rate-limiter-flexible's SQLite and PostgreSQL stores read and write; the key is text, so a long email
 * cannot overflow it. Frozen in time: a new limiter needs a new migration.
 */
import type { Kysely } from 'kysely'

const TABLES = ['throttle_login_consecutive', 'throttle_login_lock', 'throttle_login_hourly', 'throttle_login_ip', 'throttle_signup_ip']

export async function up (db: Kysely<any>): Promise<void> {
  for (const table of TABLES) {
    await db.schema.createTable(table)
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('expire', 'bigint')
      .execute()
    await db.schema.createIndex(`${table}_expire_idx`).on(table).column('expire').execute()
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const table of TABLES) await db.schema.dropTable(table).execute()
}
