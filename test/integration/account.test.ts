/** The account page: profile, active sessions and ending them, password change, recent events; safe `next`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashToken } from '../../src/auth/tokens.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { TestBrowser, fieldError, flashText } from '../helpers/browser.js'

let t: TestApp
beforeAll(async () => { t = await createTestApp({ env: { SIGNUPS_PER_IP_PER_HOUR: '1000' } }) })
afterAll(async () => { await t.close() })

let counter = 0
async function newUser (password = 'original password 1'): Promise<{ email: string, password: string, browser: TestBrowser }> {
  const email = `user${++counter}@example.com`
  const browser = new TestBrowser(t.app)
  const res = await browser.signup(`User ${counter}`, email, password)
  expect(res.statusCode).toBe(303)
  return { email, password, browser }
}

async function isSignedIn (browser: TestBrowser): Promise<boolean> {
  return (await browser.get('/')).body.includes('class="nav-user"')
}

describe('requireUser', () => {
  it('sends an anonymous visitor to /login?next=<path>, and the login lands back there', async () => {
    const { email, password } = await newUser()
    const browser = new TestBrowser(t.app)
    const res = await browser.get('/account')
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/login?next=%2Faccount')
    const login = await browser.login(email, password, { next: '/account' })
    expect(login.headers.location).toBe('/account')
    expect((await browser.follow(login)).statusCode).toBe(200)
  })
})

describe('next only goes to same-site paths', () => {
  it.each([
    'https://evil.example', '//evil.example', '/\\evil.example', '\\\\evil.example', 'javascript:alert(1)', '/\n/evil.example',
    ' //evil.example', '/\t/evil.example', 'http:/evil.example', '////evil.example', ''
  ])('next=%j goes home', async (next) => {
    const { email, password } = await newUser()
    const browser = new TestBrowser(t.app)
    const res = await browser.post(`/login?next=${encodeURIComponent(next)}`, { email, password }, { from: '/login' })
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/')
  })

  it('a same-site path with a query survives', async () => {
    const { email, password } = await newUser()
    const browser = new TestBrowser(t.app)
    const res = await browser.login(email, password, { next: '/pets/1?from=login' })
    expect(res.headers.location).toBe('/pets/1?from=login')
  })
})

describe('account page', () => {
  it('shows name, email, member since, and is never cached', async () => {
    const { email, browser } = await newUser()
    const page = await browser.get('/account')
    expect(page.statusCode).toBe(200)
    expect(page.headers['cache-control']).toBe('no-store')
    expect(page.body).toContain(`<span>${email}</span>`)
    expect(page.body).toContain(`<dd>User ${counter}</dd>`)
    expect(page.body).toContain('25 November 2026')
  })

  it('lists active sessions with browser, system, IP, last seen and "this device"', async () => {
    const { email, password, browser } = await newUser()
    const phone = new TestBrowser(t.app, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1')
    await phone.login(email, password)
    const page = (await browser.get('/account')).body
    expect(page).toContain('Chrome on Linux')
    expect(page).toContain('Safari on iOS')
    expect(page).toContain('this device')
    expect(page).toContain('127.0.0.1')
    expect(page.match(/this device/g)).toHaveLength(1)
  })

  it('ends one chosen session: that browser is anonymous on its next request', async () => {
    const { email, password, browser } = await newUser()
    const other = new TestBrowser(t.app)
    await other.login(email, password)
    const otherId = hashToken(other.cookies.get('paws_session')!.value)
    const res = await browser.post('/account/sessions/end', { sessionId: otherId }, { from: '/account' })
    expect(res.statusCode).toBe(303)
    expect(flashText((await browser.follow(res)).body)).toBe('That session has been logged out.')
    expect(await isSignedIn(other)).toBe(false)
    expect(await isSignedIn(browser)).toBe(true)
  })

  it("cannot end another account's session", async () => {
    const victim = await newUser()
    const attacker = await newUser()
    const victimId = hashToken(victim.browser.cookies.get('paws_session')!.value)
    await attacker.browser.post('/account/sessions/end', { sessionId: victimId }, { from: '/account' })
    expect(await isSignedIn(victim.browser)).toBe(true)
  })

  it('"log out other sessions" ends every other session and keeps this one', async () => {
    const { email, password, browser } = await newUser()
    const others = [new TestBrowser(t.app), new TestBrowser(t.app)]
    for (const o of others) await o.login(email, password)
    const res = await browser.post('/account/sessions/end-others', {}, { from: '/account' })
    expect(flashText((await browser.follow(res)).body)).toBe('All your other sessions have been logged out.')
    for (const o of others) expect(await isSignedIn(o)).toBe(false)
    expect(await isSignedIn(browser)).toBe(true)
  })
})

describe('change password', () => {
  it('needs the current password', async () => {
    const { browser } = await newUser()
    const res = await browser.post('/account/password', { currentPassword: 'not it at all', newPassword: 'brand new password 2', confirmPassword: 'brand new password 2' }, { from: '/account' })
    expect(res.statusCode).toBe(400)
    expect(fieldError(res.body, 'currentPassword')).toBe('That is not your current password.')
  })

  it('validates the new password like sign-up', async () => {
    const { password, browser } = await newUser()
    const res = await browser.post('/account/password', { currentPassword: password, newPassword: 'password', confirmPassword: 'password' }, { from: '/account' })
    expect(res.statusCode).toBe(400)
    expect(fieldError(res.body, 'newPassword')).toBe('This password is too common. Please choose another.')
  })

  it('on success every other session ends, this one gets a new token, and only the new password works', async () => {
    const { email, password, browser } = await newUser()
    const other = new TestBrowser(t.app)
    await other.login(email, password)
    const before = browser.cookies.get('paws_session')!.value
    const res = await browser.post('/account/password', { currentPassword: password, newPassword: 'brand new password 2', confirmPassword: 'brand new password 2' }, { from: '/account' })
    expect(res.statusCode).toBe(303)
    const after = browser.cookies.get('paws_session')!.value
    expect(after).not.toBe(before)
    expect(flashText((await browser.follow(res)).body)).toContain('Your password has been changed.')
    expect(await isSignedIn(browser)).toBe(true)
    expect(await isSignedIn(other)).toBe(false)
    const stale = new TestBrowser(t.app)
    stale.cookies.set('paws_session', { value: before, persistent: false })
    expect(await isSignedIn(stale)).toBe(false)
    const fresh = new TestBrowser(t.app)
    expect((await fresh.login(email, password)).statusCode).toBe(401)
    expect((await fresh.login(email, 'brand new password 2')).statusCode).toBe(303)
  })
})

describe('recent activity', () => {
  it('shows the last 20 account events with time and IP, from the append-only events table', async () => {
    const { email, password, browser } = await newUser()
    const other = new TestBrowser(t.app)
    await other.login(email, 'wrong password here')
    await other.login(email, password)
    await other.logout()
    const page = (await browser.get('/account')).body
    for (const label of ['Account created', 'Failed login', 'Logged in', 'Logged out']) expect(page).toContain(`<td data-label="What">${label}</td>`)
    expect(page).toMatch(/<time datetime="2026-11-25T12:00:00.000Z">25 Nov 2026, 12:00 UTC<\/time>/)
    for (let i = 0; i < 25; i++) await other.login(email, `wrong ${i}`)
    const full = (await browser.get('/account')).body
    const rows = full.split('id="events-heading"')[1]!.match(/<tr><td data-label="What">/g) ?? []
    expect(rows).toHaveLength(20)
  })

  it('events cannot be rewritten', async () => {
    await expect(t.db.kysely.updateTable('account_events').set({ type: 'login' }).execute()).rejects.toThrow(/append-only/)
  })
})
