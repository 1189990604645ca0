/**
 * The throttling counters give the same answers in every store the app can pick (memory, SQLite,
 * PostgreSQL, Redis), count exactly under concurrency, and hold across processes: two throttles over two
 * connections to one store (as two instances have) see one count. Redis keys stay under the configured
 * prefix, so removing the prefix removes them all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { createThrottle, type Throttle, type ThrottleStore } from '../../src/auth/throttle.js'
import { loadConfig } from '../../src/config.js'
import { connect, type Db } from '../../src/db/connect.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { TEST_REDIS_URL, countRedisKeys, createPostgresDatabase, createSqliteDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../helpers/database.js'

const LIMITS = { loginMaxFailures: 5, loginFailuresPerIpPerMinute: 20, signupsPerIpPerHour: 10 }

interface Harness {
  redisPrefix?: string
  /** Two throttles over two separate connections to the same store: two processes. */
  pair: () => Promise<[Throttle, Throttle]>
  close: () => Promise<void>
}

async function databaseHarness (database: TestDatabase): Promise<Harness> {
  const config = loadConfig({ DATABASE_URL: database.url })
  const dbs: Db[] = []
  const open = async () => {
    const db = connect(config.database)
    dbs.push(db)
    await migrateToLatest(db)
    return createThrottle(LIMITS, { kind: 'database', db })
  }
  return {
    pair: async () => [await open(), await open()],
    close: async () => {
      for (const db of dbs) await db.close()
      await database.drop()
    }
  }
}

function redisHarness (redis: TestRedis): Harness {
  const clients: Redis[] = []
  const open = () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 2 })
    clients.push(client)
    const store: ThrottleStore = { kind: 'redis', client, keyPrefix: redis.keyPrefix }
    return createThrottle(LIMITS, store)
  }
  return {
    redisPrefix: redis.keyPrefix,
    pair: async () => [open(), open()],
    close: async () => {
      for (const c of clients) await c.quit()
      await redis.drop()
    }
  }
}

const memoryHarness: Harness = {
  pair: async () => { const t = createThrottle(LIMITS, { kind: 'memory' }); return [t, t] },
  close: async () => {}
}

const stores: Record<string, () => Promise<Harness>> = {
  memory: async () => memoryHarness,
  sqlite: async () => await databaseHarness(createSqliteDatabase()),
  postgres: async () => await databaseHarness(await createPostgresDatabase()),
  redis: async () => redisHarness(createTestRedis())
}

describe.each(Object.keys(stores))('throttle counters in %s', (kind) => {
  let harness: Harness
  let a: Throttle
  let b: Throttle
  let n = 0
  const email = () => `user${++n}@example.com`

  beforeAll(async () => {
    harness = await stores[kind]!()
    ;[a, b] = await harness.pair()
  })
  afterAll(async () => { await harness?.close() })

  it('five failures split between two processes lock the account for a minute; success clears the streak', async () => {
    const locked = email()
    for (const t of [a, b, a, b]) await t.loginFailed(locked, '10.0.0.1')
    expect(await a.checkLogin(locked, '10.0.0.1')).toEqual({ allowed: true })
    await b.loginFailed(locked, '10.0.0.2')
    for (const t of [a, b]) {
      const verdict = await t.checkLogin(locked, '10.0.0.3')
      expect(verdict).toMatchObject({ allowed: false, reason: 'account-locked' })
      expect(verdict.allowed ? 0 : verdict.retryAfterMs).toBeGreaterThan(55_000)
      expect(verdict.allowed ? 0 : verdict.retryAfterMs).toBeLessThanOrEqual(60_000)
    }
    await a.loginSucceeded(locked)
    expect(await b.checkLogin(locked, '10.0.0.3')).toEqual({ allowed: true })
  })

  it('counts exactly under concurrency: 99 simultaneous failures stay under the hourly cap, the 100th reaches it', async () => {
    const busy = email()
    await Promise.all(Array.from({ length: 99 }, async (_, i) => { await (i % 2 === 0 ? a : b).loginFailed(busy, `10.1.${i}.1`) }))
    await a.loginSucceeded(busy)
    expect(await b.checkLogin(busy, '10.2.0.1')).toEqual({ allowed: true })
    await b.loginFailed(busy, '10.2.0.1')
    await b.loginSucceeded(busy)
    expect(await a.checkLogin(busy, '10.2.0.1')).toMatchObject({ allowed: false, reason: 'account-hourly' })
  })

  it('per address: failed logins across accounts, and sign-ups, are counted for both processes together', async () => {
    for (let i = 0; i < 20; i++) await (i % 2 === 0 ? a : b).loginFailed(email(), '10.3.0.1')
    expect(await a.checkLogin(email(), '10.3.0.1')).toMatchObject({ allowed: false, reason: 'ip-failures' })
    expect(await b.checkLogin(email(), '10.3.0.2')).toEqual({ allowed: true })

    const verdicts = await Promise.all(Array.from({ length: 12 }, async (_, i) => await (i % 2 === 0 ? a : b).takeSignup('10.4.0.1')))
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(10)
    expect(verdicts.filter((v) => !v.allowed)).toHaveLength(2)
  })

  it('a very long key (a pasted essay for an email) is counted, not an error', async () => {
    const long = `${'x'.repeat(5000)}@example.com`
    for (let i = 0; i < 5; i++) await a.loginFailed(long, '10.5.0.1')
    expect(await b.checkLogin(long, '10.5.0.1')).toMatchObject({ allowed: false, reason: 'account-locked' })
  })

  if (kind === 'redis') {
    it('every key is under the configured prefix', async () => {
      const prefix = harness.redisPrefix!
      expect(await countRedisKeys(prefix)).toBeGreaterThan(0)
      const client = new Redis(TEST_REDIS_URL)
      try {
        const found: string[] = []
        let cursor = '0'
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', '*user1@example.com*', 'COUNT', 1000)
          cursor = next
          found.push(...keys)
        } while (cursor !== '0')
        expect(found.length).toBeGreaterThan(0)
        expect(found.filter((k) => !k.startsWith(prefix))).toEqual([])
      } finally {
        client.disconnect()
      }
    })
  }
})

describe('removing a Redis prefix', () => {
  it('removes every counter written under it, and nothing else', async () => {
    const mine = createTestRedis()
    const other = createTestRedis()
    const clients = [new Redis(mine.url), new Redis(other.url)]
    try {
      const [t1, t2] = [createThrottle(LIMITS, { kind: 'redis', client: clients[0]!, keyPrefix: mine.keyPrefix }), createThrottle(LIMITS, { kind: 'redis', client: clients[1]!, keyPrefix: other.keyPrefix })]
      await t1.loginFailed('x@example.com', '10.6.0.1')
      await t2.loginFailed('x@example.com', '10.6.0.1')
      expect(await countRedisKeys(mine.keyPrefix)).toBeGreaterThan(0)
      await mine.drop()
      expect(await countRedisKeys(mine.keyPrefix)).toBe(0)
      expect(await countRedisKeys(other.keyPrefix)).toBeGreaterThan(0)
    } finally {
      await other.drop()
      for (const c of clients) await c.quit()
    }
  })
})
