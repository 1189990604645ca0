/**
 * Login throttling against guessing and credential stuffing: per-account locks that double, per-address
 * limits, sign-up limits; a refused attempt never spends a password hash. Time moves by setting the
 * system clock (only Date is faked; nothing sleeps).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPasswordHasher, type PasswordHasher } from '../../src/auth/passwords.js'
import { createThrottle, lockSeconds } from '../../src/auth/throttle.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, TestBrowser } from '../helpers/browser.js'

let t: TestApp
let verifications = 0
let hashes = 0

function countingHasher (): PasswordHasher {
  const real = createPasswordHasher({ memoryCost: 19_456, timeCost: 2, parallelism: 1 }, { concurrency: 2, queue: 64 })
  return {
    ...real,
    verify: async (stored, password) => { verifications++; return await real.verify(stored, password) },
    hash: async (password) => { hashes++; return await real.hash(password) }
  }
}

beforeAll(async () => { t = await createTestApp({ hasher: countingHasher() }) })
afterAll(async () => { await t.close() })
beforeEach(() => { vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 10, 25, 12) }) })
afterEach(() => { vi.useRealTimers() })

let n = 0
async function newAccount (): Promise<{ email: string, password: string }> {
  const email = `throttle${++n}@example.com`
  const password = `throttle password ${n}`
  const browser = new TestBrowser(t.app)
  expect((await browser.signup(`Throttle ${n}`, email, password, password)).statusCode).toBe(303)
  return { email, password }
}

/** A login from a given client address. */
async function loginFrom (ip: string, email: string, password: string) {
  const browser = new TestBrowser(t.app)
  const token = await browser.csrfFrom('/login')
  return await browser.request({
    method: 'POST',
    url: '/login',
    remoteAddress: ip,
    payload: new URLSearchParams({ email, password, _csrf: token }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' }
  })
}

describe('per account', () => {
  it('after 5 consecutive failures from anywhere, even the right password is refused with 429 and Retry-After for a minute', async () => {
    const { email, password } = await newAccount()
    for (let i = 0; i < 5; i++) expect((await loginFrom(`10.0.0.${i + 1}`, email, 'wrong guess')).statusCode).toBe(401)
    const refused = await loginFrom('10.0.1.1', email, password)
    expect(refused.statusCode).toBe(429)
    expect(refused.headers['retry-after']).toBe('60')
    expect(refused.body).toContain('Too many attempts to log in. Please try again in 60 seconds.')
    vi.setSystemTime(Date.now() + 61_000)
    expect((await loginFrom('10.0.1.1', email, password)).statusCode).toBe(303)
  })

  it('the lock doubles with each further failure, up to 15 minutes', async () => {
    const { email } = await newAccount()
    for (let i = 0; i < 5; i++) await loginFrom('10.1.0.1', email, 'wrong')
    const expected = [120, 240, 480, 900, 900]
    for (const seconds of expected) {
      vi.setSystemTime(Date.now() + 16 * 60_000)
      expect((await loginFrom('10.1.0.1', email, 'wrong')).statusCode).toBe(401)
      const refused = await loginFrom('10.1.0.1', email, 'wrong')
      expect(refused.statusCode).toBe(429)
      expect(Number(refused.headers['retry-after'])).toBe(seconds)
    }
    expect([5, 6, 7, 8, 9, 10, 40].map((f) => lockSeconds(f, 5))).toEqual([60, 120, 240, 480, 900, 900, 900])
  })

  it('a successful login resets the count', async () => {
    const { email, password } = await newAccount()
    for (let i = 0; i < 4; i++) await loginFrom('10.2.0.1', email, 'wrong')
    expect((await loginFrom('10.2.0.1', email, password)).statusCode).toBe(303)
    for (let i = 0; i < 4; i++) expect((await loginFrom('10.2.0.1', email, 'wrong')).statusCode).toBe(401)
    expect((await loginFrom('10.2.0.1', email, password)).statusCode).toBe(303)
  })

  it('a refused attempt never runs the password hash', async () => {
    const { email, password } = await newAccount()
    for (let i = 0; i < 5; i++) await loginFrom('10.3.0.1', email, 'wrong')
    const before = verifications + hashes
    for (let i = 0; i < 10; i++) expect((await loginFrom('10.3.0.1', email, i % 2 === 0 ? password : 'wrong')).statusCode).toBe(429)
    expect(verifications + hashes).toBe(before)
  })

  it('each refusal is an account event and a log line', async () => {
    const { email, password } = await newAccount()
    for (let i = 0; i < 5; i++) await loginFrom('10.4.0.1', email, 'wrong')
    await loginFrom('10.4.0.9', email, password)
    const user = await t.db.kysely.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()
    const events = await t.db.kysely.selectFrom('account_events').select(['type', 'ip']).where('user_id', '=', user.id).where('type', '=', 'login_throttled').execute()
    expect(events).toEqual([{ type: 'login_throttled', ip: '10.4.0.9' }])
    expect(t.logs.some((l) => l.includes('login refused by throttle') && l.includes('account-locked'))).toBe(true)
  })

  it('at most 100 failures an hour per account', async () => {
    const throttle = createThrottle({ loginMaxFailures: 5, loginFailuresPerIpPerMinute: 1000, signupsPerIpPerHour: 10 }, { kind: 'memory' })
    for (let i = 0; i < 100; i++) {
      await throttle.loginFailed('hourly@example.com', `10.9.${i}.1`)
      await throttle.loginSucceeded('hourly@example.com') // clears the lock, not the hourly count
    }
    const verdict = await throttle.checkLogin('hourly@example.com', '10.9.200.1')
    expect(verdict).toMatchObject({ allowed: false, reason: 'account-hourly' })
  })
})

describe('per address', () => {
  it('at most 20 failed logins a minute from one address, across any accounts', async () => {
    for (let i = 0; i < 20; i++) expect((await loginFrom('10.5.0.1', `nobody${i}@example.com`, 'guess')).statusCode).toBe(401)
    const refused = await loginFrom('10.5.0.1', DEMO_STAFF.email, DEMO_STAFF.password)
    expect(refused.statusCode).toBe(429)
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60)
    expect((await loginFrom('10.5.0.2', DEMO_STAFF.email, DEMO_STAFF.password)).statusCode).toBe(303)
    vi.setSystemTime(Date.now() + 61_000)
    expect((await loginFrom('10.5.0.1', DEMO_STAFF.email, DEMO_STAFF.password)).statusCode).toBe(303)
  })

  it('at most 10 sign-ups an hour from one address', async () => {
    const signupFrom = async (i: number) => {
      const browser = new TestBrowser(t.app)
      const token = await browser.csrfFrom('/signup')
      const password = 'signup limit password'
      return await browser.request({
        method: 'POST',
        url: '/signup',
        remoteAddress: '10.6.0.1',
        payload: new URLSearchParams({ fullName: `Limit ${i}`, email: `limit${i}@example.com`, password, confirmPassword: password, _csrf: token }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' }
      })
    }
    for (let i = 0; i < 10; i++) expect((await signupFrom(i)).statusCode).toBe(303)
    const refused = await signupFrom(10)
    expect(refused.statusCode).toBe(429)
    expect(refused.headers['retry-after']).toBeDefined()
    expect(refused.body).toContain('Too many attempts to sign up.')
    const users = await t.db.kysely.selectFrom('users').select('id').where('email', '=', 'limit10@example.com').execute()
    expect(users).toHaveLength(0)
  })
})
