/**
 * A fresh, empty database for each test app: a SQLite file in a temporary folder, or (TEST_DB=postgres)
 * a new PostgreSQL database created on TEST_DATABASE_URL's server. Each is removed when the test ends.
 * Every name this run creates (PostgreSQL databases, Redis key prefixes) starts with the run's own
 * prefix, so the global teardown can remove whatever a crashed test left behind, and nothing else.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import pg from 'pg'

export type TestDialect = 'sqlite' | 'postgres'

export const testDialect: TestDialect = process.env.TEST_DB === 'postgres' ? 'postgres' : 'sqlite'
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * One id per test run: chosen where this module is first loaded (vitest.config.ts, in Vitest's main
 * process) and inherited through the environment by every worker and every app process a test starts.
 */
export const TEST_RUN_ID = process.env.PAWS_TEST_RUN ??= randomBytes(4).toString('hex')
/** The start of every PostgreSQL database name and Redis key this run creates. */
export const RUN_PREFIX = `paws_test_${TEST_RUN_ID}_`

export interface TestDatabase {
  url: string
  drop: () => Promise<void>
}

async function withAdmin<T> (fn: (client: pg.Client) => Promise<T>, url = TEST_DATABASE_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** A new, empty PostgreSQL database on the test server; drop() removes it, ending its connections. */
export async function createPostgresDatabase (): Promise<TestDatabase> {
  const name = `${RUN_PREFIX}${randomBytes(6).toString('hex')}`
  await withAdmin(async (admin) => { await admin.query(`create database ${name}`) })
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => { await withAdmin(async (admin) => { await admin.query(`drop database if exists ${name} with (force)`) }) }
  }
}

export function createSqliteDatabase (): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'paws-test-'))
  return { url: join(dir, 'paws.db'), drop: async () => { rmSync(dir, { recursive: true, force: true }) } }
}

export async function createTestDatabase (dialect: TestDialect = testDialect): Promise<TestDatabase> {
  return dialect === 'sqlite' ? createSqliteDatabase() : await createPostgresDatabase()
}

export interface TestRedis {
  url: string
  /** Ends with a colon; every key the app writes starts with it. */
  keyPrefix: string
  /** Deletes every key under the prefix. */
  drop: () => Promise<void>
}

/** A Redis key prefix of this run's own; drop() removes its keys. */
export function createTestRedis (): TestRedis {
  const keyPrefix = `${RUN_PREFIX}${randomBytes(6).toString('hex')}:`
  return { url: TEST_REDIS_URL, keyPrefix, drop: async () => { await deleteRedisKeys(keyPrefix) } }
}

/** SCAN + DEL of every key starting with the prefix (never KEYS, never FLUSHDB: others share the server). */
export async function deleteRedisKeys (prefix: string, url = TEST_REDIS_URL): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  let deleted = 0
  try {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) deleted += await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
  return deleted
}

export async function countRedisKeys (prefix: string, url = TEST_REDIS_URL): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  try {
    let count = 0
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500)
      cursor = next
      count += keys.length
    } while (cursor !== '0')
    return count
  } finally {
    redis.disconnect()
  }
}

/** Drops every PostgreSQL database whose name starts with the prefix (this run's leftovers). */
export async function dropPostgresDatabases (prefix = RUN_PREFIX): Promise<string[]> {
  return await withAdmin(async (admin) => {
    const { rows } = await admin.query<{ datname: string }>('select datname from pg_database where starts_with(datname, $1)', [prefix])
    for (const { datname } of rows) await admin.query(`drop database if exists "${datname}" with (force)`)
    return rows.map((r) => r.datname)
  })
}

/** Null when PostgreSQL answers a query at the URL, else why not. */
export async function postgresProblem (url = TEST_DATABASE_URL): Promise<string | null> {
  try {
    await withAdmin(async (client) => { await client.query('select 1') }, url)
    return null
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error)
  }
}

/** Null when Redis answers PING at the URL, else why not. */
export async function redisProblem (url = TEST_REDIS_URL): Promise<string | null> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000, retryStrategy: () => null })
  let cause: Error | undefined
  redis.on('error', (error: Error) => { cause ??= error })
  try {
    await redis.connect()
    await redis.ping()
    return null
  } catch (error) {
    const reported = cause ?? error
    return reported instanceof Error ? reported.message || reported.name : String(reported)
  } finally {
    redis.disconnect()
  }
}
