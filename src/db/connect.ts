/**
 * Opens the configured database behind one Kysely interface: better-sqlite3 (embedded default, WAL mode)
 * or a pg pool. Callers get the dialect name only where SQL genuinely differs.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import type { DatabaseConfig } from '../config.js'
import type { Database } from './schema.js'

export type Dialect = 'sqlite' | 'postgres'

export interface Db {
  readonly kysely: Kysely<Database>
  readonly dialect: Dialect
  /** The driver's own handle, for libraries that need it (the throttling counters' database store). */
  readonly driver: { readonly kind: 'sqlite', readonly database: SqliteDatabase.Database } | { readonly kind: 'postgres', readonly pool: pg.Pool }
  readonly close: () => Promise<void>
}

const PG_INT8_OID = 20
const SQLITE_BUSY_TIMEOUT_MS = 5_000

export function connect (config: DatabaseConfig): Db {
  if (config.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolSize,
      // bigint columns hold epoch milliseconds, far below 2^53: safe as JavaScript numbers.
      types: { getTypeParser: (oid, format) => oid === PG_INT8_OID ? Number : pg.types.getTypeParser(oid, format) }
    })
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    return { kysely, dialect: 'postgres', driver: { kind: 'postgres', pool }, close: async () => { await kysely.destroy() } }
  }
  if (config.file !== ':memory:') mkdirSync(dirname(config.file), { recursive: true })
  const database = new SqliteDatabase(config.file, { timeout: SQLITE_BUSY_TIMEOUT_MS })
  database.pragma('journal_mode = WAL')
  database.pragma('synchronous = NORMAL')
  database.pragma('foreign_keys = ON')
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database }) })
  return { kysely, dialect: 'sqlite', driver: { kind: 'sqlite', database }, close: async () => { await kysely.destroy() } }
}

/** True when the error is a unique-constraint violation on either database. */
export function isUniqueViolation (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}
