/** A small Kysely handle on a test's PostgreSQL database, for looking at what the app processes stored. */
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Database } from '../../../src/db/schema.js'

export function inspect (url: string): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  // Dropping the database ends these connections; that is expected, not an error.
  pool.on('error', () => {})
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
}
