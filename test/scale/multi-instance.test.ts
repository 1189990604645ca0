/**
 * Two app processes on two ports sharing one PostgreSQL database and one Redis: what one instance does,
 * the other knows. They start together on an empty database, so they also race through the migrations
 * and the demo data. A second pair shares PostgreSQL without Redis: the counters then live in the database.
 */
import { type Kysely, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrations as MIGRATIONS } from '../../src/db/migrate.js'
import type { Database } from '../../src/db/schema.js'
import { inspect } from './support/db.js'
import { countRedisKeys, createPostgresDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../helpers/database.js'
import { Browser, fieldError, formError } from './support/client.js'
import { type AppProc, logLines, startApp, startApps } from './support/processes.js'

const STAFF = { email: 'team@pawsrescue.co', password: 'adminpass' }
const WRONG = 'Wrong credentials. Please try again.'
const EMAIL_TAKEN = 'An account with this email already exists.'
const PASSWORD = 'a long enough password for scale tests'

async function accounts (db: Kysely<Database>, email: string): Promise<number> {
  return (await db.selectFrom('users').select('id').where('email', '=', email).execute()).length
}

describe('two instances sharing PostgreSQL and Redis', () => {
  let database: TestDatabase
  let redis: TestRedis
  let db: Kysely<Database>
  let a: AppProc
  let b: AppProc
  let env: Record<string, string>

  beforeAll(async () => {
    database = await createPostgresDatabase()
    redis = createTestRedis()
    db = inspect(database.url)
    env = {
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '5',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      SEED_DEMO_DATA: 'true',
      LOG_LEVEL: 'info',
      SIGNUPS_PER_IP_PER_HOUR: '100000',
      LOGIN_FAILURES_PER_IP_PER_MINUTE: '100000'
    }
    ;[a, b] = await startApps([{ name: 'A', env }, { name: 'B', env }])
  })

  afterAll(async () => {
    await Promise.all([a, b].map(async (p) => await p?.stop()))
    await db?.destroy()
    await database?.drop()
    await redis?.drop()
  })

  it('starting together on an empty database, they migrate once and add the demo data once', async () => {
    const ready = [a, b].map((p) => logLines(p.output()).find((l) => l.msg === 'database ready'))
    expect(ready.every((l) => l !== undefined)).toBe(true)
    expect(ready.map((l) => l!.demoDataAdded).sort()).toEqual([false, true])
    expect(ready.map((l) => (l!.migrationsApplied as string[]).length).sort()).toEqual([0, Object.keys(MIGRATIONS).length])
    expect(ready.every((l) => l!.throttleStore === 'redis')).toBe(true)
    const migrations = await sql<{ name: string }>`select name from kysely_migration`.execute(db)
    expect(migrations.rows.map((m) => m.name).sort()).toEqual(Object.keys(MIGRATIONS).sort())
    expect(await db.selectFrom('users').select(['email', 'role']).execute()).toEqual([{ email: STAFF.email, role: 'staff' }])
    expect((await db.selectFrom('pets').select('name').orderBy('id').execute()).map((p) => p.name)).toEqual(['Nelly', 'Yuki', 'Basker', 'Mr. Furrkins'])
    expect(await db.selectFrom('app_meta').select('key').execute()).toEqual([{ key: 'demo-data' }])
  })

  it('a login on one instance is valid on the other, and a logout on the other ends it on the first', async () => {
    const onA = new Browser(a.url)
    const login = await onA.login(STAFF.email, STAFF.password)
    expect(login.status).toBe(303)
    expect(login.headers.location).toBe('/')
    expect(onA.cookies.has('__Host-paws_session')).toBe(true)

    const onB = onA.at(b.url)
    expect(await onB.signedIn()).toBe(true)
    // A form rendered by A is accepted by B: one SECRET_KEY, one session.
    const logout = await onB.logout()
    expect(logout.status).toBe(303)

    // The browser lost the cookie at logout; replay it, as a thief who copied it would: A no longer honours it.
    const replay = new Browser(a.url)
    replay.cookies.set('__Host-paws_session', onA.cookies.get('__Host-paws_session')!)
    expect(await replay.signedIn()).toBe(false)
    expect(await onA.signedIn()).toBe(false)
  })

  it('failed logins on both instances count toward one lock', async () => {
    const email = 'locked@example.com'
    expect((await new Browser(a.url).signup('Locked Out', email, PASSWORD)).status).toBe(303)
    const instances = [a, b, a, b, a]
    for (const instance of instances) {
      const res = await new Browser(instance.url).login(email, 'not the password')
      expect(res.status).toBe(401)
      expect(formError(res.body)).toBe(WRONG)
    }
    // Five failures in all, none of them five on one instance: both now refuse even the right password.
    for (const instance of [b, a]) {
      const refused = await new Browser(instance.url).login(email, PASSWORD)
      expect(refused.status).toBe(429)
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(50)
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60)
    }
    expect(await countRedisKeys(redis.keyPrefix)).toBeGreaterThan(0)
  })

  it('a sign-up race across both instances gives one account', async () => {
    const email = 'race@example.com'
    const browsers = Array.from({ length: 12 }, (_, i) => new Browser(i % 2 === 0 ? a.url : b.url))
    const tokens = await Promise.all(browsers.map(async (br) => /name="_csrf" value="([^"]+)"/.exec((await br.get('/signup')).body)![1]!))
    const results = await Promise.all(browsers.map(async (br, i) =>
      await br.post('/signup', { fullName: `Racer ${i}`, email, password: PASSWORD, confirmPassword: PASSWORD }, { csrf: tokens[i]! })))
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 303)).toHaveLength(1)
    expect(statuses.filter((s) => s === 400)).toHaveLength(11)
    for (const r of results.filter((x) => x.status === 400)) expect(fieldError(r.body, 'email')).toBe(EMAIL_TAKEN)
    expect(await accounts(db, email)).toBe(1)
  })

  it('killing one instance with SIGKILL during a burst of sign-ups loses no sign-up that was acknowledged', async () => {
    const burst = 16
    type Outcome = { email: string, on: 'A' | 'B', status: number | 'error' }
    const outcomes: Outcome[] = []
    let acknowledgedByA = 0
    let killed = false
    const signups = Array.from({ length: burst * 2 }, (_, i) => {
      const on = i % 2 === 0 ? 'A' as const : 'B' as const
      const email = `burst${i}@example.com`
      const browser = new Browser(on === 'A' ? a.url : b.url)
      return async () => {
        let status: number | 'error'
        try {
          const res = await browser.signup(`Burst ${i}`, email, PASSWORD)
          status = res.status
        } catch {
          status = 'error'
        }
        outcomes.push({ email, on, status })
        if (on === 'A' && status === 303 && ++acknowledgedByA === 3 && !killed) {
          killed = true
          a.child.kill('SIGKILL')
        }
      }
    })
    await Promise.all(signups.map(async (run) => { await run() }))
    expect(await a.exited).toBe('SIGKILL')

    const fromA = outcomes.filter((o) => o.on === 'A')
    const fromB = outcomes.filter((o) => o.on === 'B')
    // The kill really happened mid-burst: some of A's sign-ups were answered, some were cut off.
    expect(fromA.filter((o) => o.status === 303).length).toBeGreaterThanOrEqual(3)
    expect(fromA.filter((o) => o.status === 'error').length).toBeGreaterThan(0)
    // B never noticed.
    expect(fromB.map((o) => o.status)).toEqual(fromB.map(() => 303))

    // Every acknowledged sign-up is there, whole: the account, its sign-up event and its session.
    for (const o of outcomes.filter((x) => x.status === 303)) {
      const user = await db.selectFrom('users').select(['id', 'role']).where('email', '=', o.email).executeTakeFirst()
      expect(user, o.email).toMatchObject({ role: 'adopter' })
      const events = await db.selectFrom('account_events').select('type').where('user_id', '=', user!.id).execute()
      expect(events.map((e) => e.type)).toContain('signup')
      expect(await db.selectFrom('sessions').select('id').where('user_id', '=', user!.id).execute()).toHaveLength(1)
    }
    // And the survivors can log in with what they chose.
    const acknowledged = outcomes.filter((x) => x.status === 303).slice(0, 3)
    for (const o of acknowledged) expect((await new Browser(b.url).login(o.email, PASSWORD)).status).toBe(303)

    // A restarted instance joins again without migrating or adding anything.
    a = await startApp('A (restarted)', env)
    const ready = logLines(a.output()).find((l) => l.msg === 'database ready')
    expect(ready).toMatchObject({ demoDataAdded: false, migrationsApplied: [] })
    expect(await new Browser(a.url).login(acknowledged[0]!.email, PASSWORD)).toMatchObject({ status: 303 })
  })
})

describe('two instances sharing PostgreSQL without Redis', () => {
  let database: TestDatabase
  let a: AppProc
  let b: AppProc

  beforeAll(async () => {
    database = await createPostgresDatabase()
    const env = { DATABASE_URL: database.url, DATABASE_POOL_SIZE: '3', SEED_DEMO_DATA: 'true', LOG_LEVEL: 'info', SIGNUPS_PER_IP_PER_HOUR: '3' }
    ;[a, b] = await startApps([{ name: 'A', env }, { name: 'B', env }])
  })

  afterAll(async () => {
    await Promise.all([a, b].map(async (p) => await p?.stop()))
    await database?.drop()
  })

  it('keep the throttling counters in the database, where both see them', async () => {
    const ready = [a, b].map((p) => logLines(p.output()).find((l) => l.msg === 'database ready'))
    expect(ready.map((l) => l?.throttleStore)).toEqual(['database', 'database'])

    for (const instance of [a, b, a, b, a]) expect((await new Browser(instance.url).login(STAFF.email, 'wrong')).status).toBe(401)
    for (const instance of [a, b]) expect((await new Browser(instance.url).login(STAFF.email, STAFF.password)).status).toBe(429)

    // Three sign-ups an hour from one address, whichever instance takes them.
    const results = []
    for (const [i, instance] of [a, b, a, b].entries()) results.push((await new Browser(instance.url).signup(`Limit ${i}`, `limit${i}@example.com`, PASSWORD)).status)
    expect(results).toEqual([303, 303, 303, 429])
  })
})
