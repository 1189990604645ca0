/**
 * Opens the configured database behind one Kysely interface: better-sqlite3 (embedded default, WAL mode)
 * or a pg pool. Callers get the dialect name only where SQL genuinely differs.
 */
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import {
  type CompiledQuery, type DatabaseConnection, type Dialect as KyselyDialect, type Driver, Kysely, PostgresDialect, SqliteDialect,
  type SqliteDialectConfig
} from 'kysely'
import type pg from 'pg'
import type { DatabaseConfig } from '../config.js'
import { type ChangeSignal, postgresChangeSignal, SNAPSHOT_READ_TIMEOUT_MS, sqliteChangeSignal } from './change-signal.js'
import type { Database } from './schema.js'

export type Dialect = 'sqlite' | 'postgres'

export interface Db {
  readonly kysely: Kysely<Database>
  readonly dialect: Dialect
  /**
   * The driver's own handle, for libraries that need it (the throttling counters' database store). For
   * SQLite, `statements` is the same connection with each prepared statement kept for reuse.
   */
  readonly driver:
    | { readonly kind: 'sqlite', readonly database: SqliteDatabase.Database, readonly statements: CachedStatements }
    | { readonly kind: 'postgres', readonly pool: pg.Pool }
  /** Tells in-process caches when anything was written, by this process or any other (change-signal.ts). */
  readonly changes: ChangeSignal
  readonly close: () => Promise<void>
}

const PG_INT8_OID = 20
const SQLITE_BUSY_TIMEOUT_MS = 5_000
/**
 * SQLite's page cache for this connection (its default is 2 MiB). Every request looks a session up by a
 * random key; with a million sessions the pages of the active ones outgrow 2 MiB and each lookup rereads
 * pages from the file. Used only as the database grows.
 */
const SQLITE_PAGE_CACHE_KIB = 16 * 1024
/** A request waits at most this long for a pooled connection, so a database that is down fails fast. */
const PG_CONNECT_TIMEOUT_MS = 5_000
const PG_IDLE_TIMEOUT_MS = 30_000

export interface ConnectOptions {
  /**
   * Told when an idle pooled connection breaks (the server restarted, an administrator ended it). The pool
   * drops that connection and opens another when needed; without a listener the error would end the process.
   */
  onIdleError?: (error: Error) => void
}

/**
 * node-postgres, loaded only when PostgreSQL is configured: the embedded default then runs without it
 * (about 3 MiB less resident memory per process, measured on the built server).
 */
function loadPg (): typeof pg {
  return createRequire(import.meta.url)('pg') as typeof pg
}

export function connect (config: DatabaseConfig, options: ConnectOptions = {}): Db {
  if (config.kind === 'postgres') {
    const pg = loadPg()
    const pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolSize,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: PG_IDLE_TIMEOUT_MS,
      application_name: 'paws-rescue-center',
      // bigint columns hold epoch milliseconds, far below 2^53: safe as JavaScript numbers.
      types: { getTypeParser: (oid, format) => oid === PG_INT8_OID ? Number : pg.types.getTypeParser(oid, format) }
    })
    pool.on('error', (error) => {
      // pg-pool attaches the whole client to the error: its connection state would fill a log line with kilobytes.
      Reflect.deleteProperty(error, 'client')
      options.onIdleError?.(error)
    })
    const readSnapshot = async () => (await pool.query<{ snapshot: string }>(CURRENT_SNAPSHOT)).rows[0]!.snapshot
    // The first query of a request may draw an idle connection the server has just ended, before the pool
    // heard of it: the change mark is read again once, on another connection, rather than failing the page.
    const changes = postgresChangeSignal(async () => {
      try {
        return await readSnapshot()
      } catch (error) {
        if (!isLostConnection(error)) throw error
        return await readSnapshot()
      }
    })
    const kysely = new Kysely<Database>({ dialect: postgresWriteWatcher(new PostgresDialect({ pool }), changes.refresh) })
    return { kysely, dialect: 'postgres', driver: { kind: 'postgres', pool }, changes, close: async () => { await kysely.destroy() } }
  }
  if (config.file !== ':memory:') mkdirSync(dirname(config.file), { recursive: true })
  const database = new SqliteDatabase(config.file, { timeout: SQLITE_BUSY_TIMEOUT_MS })
  database.pragma('journal_mode = WAL')
  database.pragma('synchronous = NORMAL')
  database.pragma('foreign_keys = ON')
  database.pragma(`cache_size = -${SQLITE_PAGE_CACHE_KIB}`)
  const statements = withStatementCache(database)
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) })
  const driver = { kind: 'sqlite', database, statements } as const
  sqliteConnections.set(kysely, driver)
  const changes = sqliteChangeSignal(database)
  return {
    kysely,
    dialect: 'sqlite',
    driver,
    changes,
    close: async () => {
      await kysely.destroy()
      changes.close()
    }
  }
}

/** Prepared once per pooled connection (a named statement): the change mark is read on most requests. */
// query_timeout (node-postgres reads it per query, though its types omit it) gives up on a reading that
// never answers and hands its connection back to the pool as broken; the signal itself fails the reading
// after the same time.
const CURRENT_SNAPSHOT: pg.QueryConfig & { query_timeout: number } = {
  name: 'paws-current-snapshot', text: 'select pg_current_snapshot()::text as snapshot', query_timeout: SNAPSHOT_READ_TIMEOUT_MS
}

/**
 * A PostgreSQL dialect that calls `written` after each statement of this process that may write (anything
 * but a SELECT, raw SQL included) and after each commit or rollback, whether it succeeded or not: the change
 * mark is then read again at its next use, so a request sees its own writes in the caches at once, as on
 * SQLite. (Another process's writes are seen from its next request on: change-signal.ts.) Every write to
 * what the caches hold goes through Kysely; the throttle's counters, written on the pool directly, are read
 * by no cache.
 */
function postgresWriteWatcher (dialect: PostgresDialect, written: () => void): KyselyDialect {
  const mayWrite = (query: CompiledQuery) => query.query.kind !== 'SelectQueryNode'
  const afterwards = async <T>(done: Promise<T>, signal: boolean): Promise<T> => {
    try {
      return await done
    } finally {
      if (signal) written()
    }
  }
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: (): Driver => {
      const driver = dialect.createDriver()
      // Kysely runs queries on the connections the driver hands out, and hands them back to the driver for
      // transactions and release: the driver gets its own connection back.
      const wrappers = new WeakMap<DatabaseConnection, DatabaseConnection>()
      const originals = new WeakMap<DatabaseConnection, DatabaseConnection>()
      const original = (connection: DatabaseConnection) => originals.get(connection) ?? connection
      const watched: Driver = {
        init: async () => { await driver.init() },
        acquireConnection: async () => {
          const connection = await driver.acquireConnection()
          let wrapper = wrappers.get(connection)
          if (wrapper === undefined) {
            wrapper = {
              executeQuery: async (query) => await afterwards(connection.executeQuery(query), mayWrite(query)),
              streamQuery: async function * (query, chunkSize) {
                try {
                  yield * connection.streamQuery(query, chunkSize)
                } finally {
                  if (mayWrite(query)) written()
                }
              }
            }
            wrappers.set(connection, wrapper)
            originals.set(wrapper, connection)
          }
          return wrapper
        },
        beginTransaction: async (connection, settings) => { await driver.beginTransaction(original(connection), settings) },
        commitTransaction: async (connection) => { await afterwards(driver.commitTransaction(original(connection)), true) },
        rollbackTransaction: async (connection) => { await afterwards(driver.rollbackTransaction(original(connection)), true) },
        releaseConnection: async (connection) => { await driver.releaseConnection(original(connection)) },
        destroy: async () => { await driver.destroy() }
      }
      for (const name of ['savepoint', 'rollbackToSavepoint', 'releaseSavepoint'] as const) {
        const method = driver[name]?.bind(driver)
        if (method !== undefined) watched[name] = async (connection, savepoint, compile) => { await method(original(connection), savepoint, compile) }
      }
      return watched
    }
  }
}

type SqliteDriver = Extract<Db['driver'], { kind: 'sqlite' }>
const sqliteConnections = new WeakMap<Kysely<Database>, SqliteDriver>()

/**
 * The SQLite connection behind a Kysely handle made by connect(), for the few per-request reads that run
 * on it directly (precompiled.ts); undefined for PostgreSQL and for transaction handles.
 */
export function sqliteConnectionOf (kysely: Kysely<Database>): SqliteDriver | undefined {
  return sqliteConnections.get(kysely)
}

/** Enough for every distinct query the application sends; past it the oldest statement is let go. */
const SQLITE_STATEMENT_CACHE_SIZE = 500

/** A SQLite connection whose prepare() hands back the statement prepared earlier for the same SQL. */
export interface CachedStatements {
  prepare: (sql: string) => SqliteDatabase.Statement
  transaction: SqliteDatabase.Database['transaction']
  close: () => void
}

/**
 * Kysely and the throttling counters prepare every query they run, and preparing costs more than running
 * a small query: keep each prepared statement and reuse it when the same SQL comes again (SQLite
 * re-prepares one by itself when the schema changes). Statements are only run with get, all and run, one
 * at a time on this single connection, so a shared statement is never busy; none sets a mode (pluck, raw).
 */
function withStatementCache (database: SqliteDatabase.Database): CachedStatements & SqliteDialectConfig['database'] {
  const statements = new Map<string, SqliteDatabase.Statement>()
  return {
    transaction: database.transaction.bind(database),
    close: () => { database.close() },
    prepare: (sql: string) => {
      let statement = statements.get(sql)
      if (statement === undefined) {
        statement = database.prepare(sql)
        if (statements.size >= SQLITE_STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!)
        statements.set(sql, statement)
      }
      return statement
    }
  }
}

/** The server ended the connection (an administrator, a restart): SQLSTATE class 57P, or the socket closed. */
function isLostConnection (error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown, message?: unknown }
  return (typeof code === 'string' && code.startsWith('57P')) || (typeof message === 'string' && message.includes('Connection terminated'))
}

/** True when the error is a unique-constraint violation on either database. */
export function isUniqueViolation (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}
