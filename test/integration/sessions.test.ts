/** Sessions: cookie attributes, rotation, logout, expiry with a hand-moved clock, restarts, secrets at rest. */
import { hash } from '@node-rs/argon2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionManager } from '../../src/auth/sessions.js'
import { hashToken } from '../../src/auth/tokens.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, TestBrowser } from '../helpers/browser.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

let t: TestApp
beforeAll(async () => { t = await createTestApp() })
afterAll(async () => { await t.close() })

type Cookie = { name: string, value: string, httpOnly?: boolean, secure?: boolean, sameSite?: string, path?: string, maxAge?: number }
function sessionCookie (cookies: unknown[], name = 'paws_session'): Cookie | undefined {
  return (cookies as Cookie[]).find((c) => c.name === name)
}

async function signedIn (browser: TestBrowser): Promise<boolean> {
  return (await browser.get('/')).body.includes('class="nav-user"')
}

describe('session cookie', () => {
  it('in development: HttpOnly, SameSite=Lax, Path=/, not Secure, and ends with the browser unless remembered', async () => {
    const browser = new TestBrowser(t.app)
    const res = await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const cookie = sessionCookie(res.cookies)!
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' })
    expect(cookie.secure).toBeFalsy()
    expect(cookie.maxAge).toBeUndefined()
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('remember me makes the cookie persistent for the absolute lifetime (30 days)', async () => {
    const browser = new TestBrowser(t.app)
    const res = await browser.login(DEMO_STAFF.email, DEMO_STAFF.password, { remember: true })
    expect(sessionCookie(res.cookies)!.maxAge).toBe(30 * 24 * 3600)
  })

  it('in production: Secure with the __Host- prefix', async () => {
    // Nothing listens on the discard port: the sign-in sends no mail, and none is delivered.
    const prod = await createTestApp({ env: { NODE_ENV: 'production', PUBLIC_URL: 'https://paws.example.org', SMTP_URL: 'smtp://127.0.0.1:9' } })
    try {
      const browser = new TestBrowser(prod.app)
      const res = await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
      expect(res.statusCode).toBe(303)
      const cookie = sessionCookie(res.cookies, '__Host-paws_session')!
      expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' })
      expect(res.cookies.some((c) => c.name === 'paws_session')).toBe(false)
      expect(res.headers['strict-transport-security']).toContain('max-age=31536000')
    } finally {
      await prod.close()
    }
  })
})

describe('session lifecycle', () => {
  it('a token planted before login is never adopted: login issues a new one (no fixation)', async () => {
    // Attack: someone plants a cookie value they know, hoping the victim's login will make it valid.
    const planted = 'P'.repeat(43)
    const browser = new TestBrowser(t.app)
    browser.cookies.set('paws_session', { value: planted, persistent: false })
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const issued = browser.cookies.get('paws_session')!.value
    expect(issued).not.toBe(planted)
    expect(await signedIn(browser)).toBe(true)
    const replay = new TestBrowser(t.app)
    replay.cookies.set('paws_session', { value: planted, persistent: false })
    expect(await signedIn(replay)).toBe(false)
  })

  it('two logins give two different tokens', async () => {
    const a = new TestBrowser(t.app)
    const b = new TestBrowser(t.app)
    await a.login(DEMO_STAFF.email, DEMO_STAFF.password)
    await b.login(DEMO_STAFF.email, DEMO_STAFF.password)
    expect(a.cookies.get('paws_session')!.value).not.toBe(b.cookies.get('paws_session')!.value)
  })

  it('a login with a stale cookie replaces it: the old token is deleted on the server', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const old = browser.cookies.get('paws_session')!.value
    // The session expires; the browser still sends the old cookie when it logs in again.
    t.clock.advance(31 * MINUTE)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    expect(browser.cookies.get('paws_session')!.value).not.toBe(old)
    expect(await t.db.kysely.selectFrom('sessions').select('id').where('id', '=', hashToken(old)).executeTakeFirst()).toBeUndefined()
  })

  it('after logout the old cookie is worth nothing', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const stolen = browser.cookies.get('paws_session')!.value
    await browser.logout()
    const replay = new TestBrowser(t.app)
    replay.cookies.set('paws_session', { value: stolen, persistent: false })
    expect(await signedIn(replay)).toBe(false)
    expect((await replay.get('/account')).statusCode).toBe(303)
  })

  it('a forged or malformed cookie is simply anonymous', async () => {
    for (const value of ['x', 'A'.repeat(43), '../../etc/passwd', "' or 1=1 --", 'é'.repeat(43)]) {
      const res = await t.app.inject({ url: '/', cookies: { paws_session: value } })
      expect(res.statusCode).toBe(200)
      expect(res.body).not.toContain('nav-user')
    }
  })

  it('sessions survive a restart of the server', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const url = t.config.database.kind === 'sqlite' ? t.config.database.file : t.config.database.url
    const restarted = await createTestApp({ databaseUrl: url })
    try {
      restarted.clock.set(t.clock())
      const same = new TestBrowser(restarted.app)
      same.cookies.set('paws_session', browser.cookies.get('paws_session')!)
      expect(await signedIn(same)).toBe(true)
    } finally {
      await restarted.close()
    }
  })
})

describe('expiry, with an injected clock', () => {
  it('idle timeout: 30 minutes without a request ends a session; activity keeps it alive', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    t.clock.advance(29 * MINUTE)
    expect(await signedIn(browser)).toBe(true)
    t.clock.advance(29 * MINUTE)
    expect(await signedIn(browser)).toBe(true)
    t.clock.advance(30 * MINUTE)
    expect(await signedIn(browser)).toBe(false)
  })

  it('absolute lifetime: 12 hours, however active the session', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    for (let i = 0; i < 23; i++) {
      t.clock.advance(30 * MINUTE - 1)
      expect(await signedIn(browser)).toBe(true)
    }
    t.clock.advance(30 * MINUTE)
    expect(await signedIn(browser)).toBe(false)
  })

  it('remember me: 14 days idle and 30 days absolute', async () => {
    const idle = new TestBrowser(t.app)
    await idle.login(DEMO_STAFF.email, DEMO_STAFF.password, { remember: true })
    t.clock.advance(13 * DAY)
    expect(await signedIn(idle)).toBe(true)
    t.clock.advance(14 * DAY)
    expect(await signedIn(idle)).toBe(false)

    const active = new TestBrowser(t.app)
    await active.login(DEMO_STAFF.email, DEMO_STAFF.password, { remember: true })
    for (let day = 0; day < 29; day++) {
      t.clock.advance(DAY)
      expect(await signedIn(active)).toBe(true)
    }
    t.clock.advance(DAY)
    expect(await signedIn(active)).toBe(false)
  })

  it('a remembered login survives closing the browser; an unremembered one does not', async () => {
    const remembered = new TestBrowser(t.app)
    await remembered.login(DEMO_STAFF.email, DEMO_STAFF.password, { remember: true })
    const forgotten = new TestBrowser(t.app)
    await forgotten.login(DEMO_STAFF.email, DEMO_STAFF.password)
    remembered.restart()
    forgotten.restart()
    expect(await signedIn(remembered)).toBe(true)
    expect(await signedIn(forgotten)).toBe(false)
  })

  it('last seen is written at most once a minute per session', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const id = hashToken(browser.cookies.get('paws_session')!.value)
    const lastSeen = async () => (await t.db.kysely.selectFrom('sessions').select('last_seen_at').where('id', '=', id).executeTakeFirstOrThrow()).last_seen_at
    const start = await lastSeen()
    t.clock.advance(30_000)
    await browser.get('/')
    await browser.get('/about')
    expect(await lastSeen()).toBe(start)
    t.clock.advance(31_000)
    await browser.get('/')
    expect(await lastSeen()).toBe(start + 61_000)
  })

  it('the sweep deletes expired sessions and keeps live ones', async () => {
    const live = new TestBrowser(t.app)
    const stale = new TestBrowser(t.app)
    await stale.login(DEMO_STAFF.email, DEMO_STAFF.password)
    t.clock.advance(31 * MINUTE)
    await live.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const manager = createSessionManager(t.db, t.config.session, t.clock)
    expect(await manager.sweep()).toBeGreaterThan(0)
    const ids = (await t.db.kysely.selectFrom('sessions').select('id').execute()).map((r) => r.id)
    expect(ids).toContain(hashToken(live.cookies.get('paws_session')!.value))
    expect(ids).not.toContain(hashToken(stale.cookies.get('paws_session')!.value))
  })
})

describe('passwords', () => {
  it('a hash with weaker parameters than configured is replaced at the next successful login', async () => {
    const weak = await hash('weak-params-password', { memoryCost: 4096, timeCost: 1, parallelism: 1 })
    await t.db.kysely.insertInto('users').values({ email: 'old@example.com', full_name: 'Old Hash', password_hash: weak, role: 'adopter', created_at: t.clock() }).execute()
    const browser = new TestBrowser(t.app)
    expect((await browser.login('old@example.com', 'weak-params-password')).statusCode).toBe(303)
    const row = await t.db.kysely.selectFrom('users').select('password_hash').where('email', '=', 'old@example.com').executeTakeFirstOrThrow()
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    browser.cookies.delete('paws_session')
    expect((await browser.login('old@example.com', 'weak-params-password')).statusCode).toBe(303)
  })

  it('neither a password nor a session token appears in the database or the logs', async () => {
    const password = 'Unique-Password-For-Leak-Check-77'
    const browser = new TestBrowser(t.app)
    await browser.signup('Leak Check', 'leak@example.com', password)
    await browser.logout()
    await browser.login('leak@example.com', 'wrong-' + password)
    await browser.login('leak@example.com', password, { remember: true })
    const token = browser.cookies.get('paws_session')!.value
    const csrf = browser.cookies.get('paws_csrf')?.value
    const dump: string[] = []
    for (const table of ['users', 'sessions', 'account_events', 'pets', 'app_meta'] as const) {
      dump.push(JSON.stringify(await t.db.kysely.selectFrom(table).selectAll().execute()))
    }
    const everything = dump.join('\n') + '\n' + t.logs.join('\n')
    expect(everything).not.toContain(password)
    expect(everything).not.toContain(token)
    if (csrf !== undefined) expect(everything).not.toContain(csrf)
    expect(everything).toContain(hashToken(token))
  })
})
