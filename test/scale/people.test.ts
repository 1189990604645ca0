/**
 * Suspension across instances (issue 19): two app processes share PostgreSQL and Redis; the rescue team
 * suspends an adopter on instance A, and the adopter's session on instance B, which B has just honoured
 * (and holds in its session cache), ends at B's next request. Restoring on A lets the adopter in on B.
 */
import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/schema.js'
import { createPostgresDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../helpers/database.js'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js'
import { Browser, formError } from './support/client.js'
import { inspect } from './support/db.js'
import { type AppProc, startApps } from './support/processes.js'

const STAFF = { email: 'team@pawsrescue.co', password: 'adminpass' }
const ADOPTER = { name: 'Scaled Adopter', email: 'scaled.adopter@example.com', password: 'a long enough password for scale tests' }
const SUSPENDED = 'This account is suspended. Please contact the rescue team.'

describe('suspension on one instance ends the session on the other (PostgreSQL + Redis)', () => {
  let database: TestDatabase
  let redis: TestRedis
  let smtp: TestSmtp
  let db: Kysely<Database>
  let a: AppProc
  let b: AppProc

  beforeAll(async () => {
    database = await createPostgresDatabase()
    redis = createTestRedis()
    smtp = await startTestSmtp()
    db = inspect(database.url)
    const env = {
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '5',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      SEED_DEMO_DATA: 'true',
      // Production servers need both (links in emails, the outbox's relay); the address is the test's own.
      PUBLIC_URL: 'https://paws.example.org',
      SMTP_URL: smtp.url,
      REQUIRE_EMAIL_VERIFICATION: 'false'
    }
    ;[a, b] = await startApps([{ name: 'A', env }, { name: 'B', env }])
  })

  afterAll(async () => {
    await Promise.all([a, b].map(async (p) => await p?.stop()))
    await db?.destroy()
    await database?.drop()
    await redis?.drop()
    await smtp?.close()
  })

  it('staff on A suspend an adopter signed in on B: B ends the session at its next request and refuses the login; restoring on A lets them in on B', async () => {
    const adopter = new Browser(b.url)
    expect((await adopter.signup(ADOPTER.name, ADOPTER.email, ADOPTER.password)).status).toBe(303)
    expect(await adopter.signedIn()).toBe(true)
    // Twice: the second answer comes from B's session cache, which the suspension on A must empty.
    expect(await adopter.signedIn()).toBe(true)

    const staff = new Browser(a.url)
    expect((await staff.login(STAFF.email, STAFF.password)).status).toBe(303)
    const { id } = await db.selectFrom('users').select('id').where('email', '=', ADOPTER.email).executeTakeFirstOrThrow()
    const suspend = await staff.post(`/staff/people/${id}/suspend`, { reason: 'Scale test' }, { from: `/staff/people/${id}` })
    expect(suspend.status).toBe(303)

    expect(await adopter.signedIn()).toBe(false)
    const login = await adopter.login(ADOPTER.email, ADOPTER.password)
    expect(login.status).toBe(403)
    expect(formError(login.body)).toBe(SUSPENDED)
    expect(await adopter.signedIn()).toBe(false)

    expect((await staff.post(`/staff/people/${id}/restore`, {}, { from: `/staff/people/${id}` })).status).toBe(303)
    expect((await adopter.login(ADOPTER.email, ADOPTER.password)).status).toBe(303)
    expect(await adopter.signedIn()).toBe(true)
  })
})
