/**
 * Form tokens outlive a restart and are shared by every instance on one database, without SECRET_KEY:
 * the key is made once and kept with the data. SECRET_KEY_PREVIOUS keeps forms working through a change
 * of key. Runs on each database (TEST_DB).
 */
import { statSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { keyFileFor } from '../../src/auth/signing-keys.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, TestBrowser } from '../helpers/browser.js'
import { createTestDatabase, type TestDatabase, testDialect } from '../helpers/database.js'

const EXPIRED = 'This form has expired or came from another site. Please try again.'
const KEY_A = 'rotation-test-key-a-0123456789-0123456789'
const KEY_B = 'rotation-test-key-b-0123456789-0123456789'
/** Empty values count as unset: the helper's SECRET_KEY is taken away. */
const NO_SECRET_KEY = { SECRET_KEY: '' }

let database: Promise<TestDatabase> | undefined
const apps: TestApp[] = []

/** An instance of the app on this test's database (made by the first instance, shared by the others). */
async function instance (env: Record<string, string>): Promise<TestApp> {
  database ??= createTestDatabase()
  const t = await createTestApp({ env, databaseUrl: (await database).url })
  apps.push(t)
  return t
}

async function stop (t: TestApp): Promise<void> {
  apps.splice(apps.indexOf(t), 1)
  await t.close()
}

afterEach(async () => {
  for (const t of apps.splice(0)) await t.close()
  await (await database)?.drop()
  database = undefined
})

/** The same browser (its cookies) talking to another instance or a restarted one. */
function sameBrowserOn (browser: TestBrowser, t: TestApp): TestBrowser {
  const moved = new TestBrowser(t.app, browser.userAgent)
  for (const [name, cookie] of browser.cookies) moved.cookies.set(name, cookie)
  return moved
}

/** Opens the login form on one instance and posts a wrong password to another: 401 means the token held. */
async function loginFormAcross (from: TestApp, to: TestApp): Promise<number> {
  const browser = new TestBrowser(from.app)
  const token = await browser.csrfFrom('/login')
  const res = await sameBrowserOn(browser, to).post('/login', { email: DEMO_STAFF.email, password: 'not the password' }, { csrf: token })
  if (res.statusCode === 403) expect(res.body).toContain(EXPIRED)
  return res.statusCode
}

describe('without SECRET_KEY, the key kept with the data', () => {
  it('a restart between GET /login and POST /login does not expire the form', async () => {
    const before = await instance(NO_SECRET_KEY)
    const browser = new TestBrowser(before.app)
    const token = await browser.csrfFrom('/login')
    await stop(before)
    const after = await instance(NO_SECRET_KEY)
    const res = await sameBrowserOn(browser, after).post('/login', DEMO_STAFF, { csrf: token })
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/')
  })

  it("two instances on one database accept each other's forms (on PostgreSQL started at the same moment)", async () => {
    // Two SQLite connections in one process cannot migrate at once (the waiting one blocks the event loop the
    // other needs); separate processes can, and the cluster process test starts two workers at once.
    const [a, b] = testDialect === 'postgres'
      ? await Promise.all([instance(NO_SECRET_KEY), instance(NO_SECRET_KEY)])
      : [await instance(NO_SECRET_KEY), await instance(NO_SECRET_KEY)]
    expect(await loginFormAcross(a, b)).toBe(401)
    expect(await loginFormAcross(b, a)).toBe(401)
  })

  it("a signed-in user's form from before a restart still posts", async () => {
    const before = await instance(NO_SECRET_KEY)
    const browser = new TestBrowser(before.app)
    expect((await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)).statusCode).toBe(303)
    const token = await browser.csrfFrom('/logout')
    await stop(before)
    const after = sameBrowserOn(browser, await instance(NO_SECRET_KEY))
    expect((await after.post('/logout', {}, { csrf: token })).statusCode).toBe(303)
  })

  it('the key is kept with the data: a file beside the SQLite database only its owner can read, or one row of app_meta', async () => {
    const t = await instance(NO_SECRET_KEY)
    const database = t.config.database
    if (database.kind === 'sqlite') {
      expect(statSync(keyFileFor(database.file)).mode & 0o777).toBe(0o600)
    } else {
      const rows = await t.db.kysely.selectFrom('app_meta').select('value').where('key', '=', 'secret_key').execute()
      expect(rows).toHaveLength(1)
      expect(rows[0]!.value.length).toBeGreaterThanOrEqual(32)
    }
  })

  it('SECRET_KEY, when set, is used instead of the kept key', async () => {
    const kept = await instance(NO_SECRET_KEY)
    const configured = await instance({ SECRET_KEY: KEY_A })
    expect(await loginFormAcross(kept, configured)).toBe(403)
  })
})

describe('rotating SECRET_KEY', () => {
  it('forms made with the old key still post while it is SECRET_KEY_PREVIOUS, and not after', async () => {
    const old = await instance({ SECRET_KEY: KEY_A })
    const rotating = await instance({ SECRET_KEY: KEY_B, SECRET_KEY_PREVIOUS: KEY_A })
    const rotated = await instance({ SECRET_KEY: KEY_B })
    expect(await loginFormAcross(old, rotating)).toBe(401)
    expect(await loginFormAcross(old, rotated)).toBe(403)
  })

  it('new forms are signed with the new key, so they post once the old key is gone', async () => {
    const rotating = await instance({ SECRET_KEY: KEY_B, SECRET_KEY_PREVIOUS: KEY_A })
    const rotated = await instance({ SECRET_KEY: KEY_B })
    const old = await instance({ SECRET_KEY: KEY_A })
    expect(await loginFormAcross(rotating, rotated)).toBe(401)
    expect(await loginFormAcross(rotating, old)).toBe(403)
  })

  it("a signed-in user's form made with the old key still posts during the rotation", async () => {
    const old = await instance({ SECRET_KEY: KEY_A })
    const browser = new TestBrowser(old.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const token = await browser.csrfFrom('/logout')
    const rotating = sameBrowserOn(browser, await instance({ SECRET_KEY: KEY_B, SECRET_KEY_PREVIOUS: KEY_A }))
    expect((await rotating.post('/logout', {}, { csrf: token })).statusCode).toBe(303)
  })
})
