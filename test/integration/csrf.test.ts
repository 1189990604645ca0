/** Every POST needs a form token bound to the visitor, and a browser's Origin must be this site. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, TestBrowser, extractCsrf } from '../helpers/browser.js'

const EXPIRED = 'This form has expired or came from another site. Please try again.'

let t: TestApp
beforeAll(async () => { t = await createTestApp() })
afterAll(async () => { await t.close() })

async function sessionCount (): Promise<number> {
  return (await t.db.kysely.selectFrom('sessions').select('id').execute()).length
}

describe('forms are protected against cross-site requests', () => {
  it('a login without a token is refused with 403 and the expired-form page, and signs nobody in', async () => {
    const before = await sessionCount()
    const browser = new TestBrowser(t.app)
    const res = await browser.post('/login', { email: DEMO_STAFF.email, password: DEMO_STAFF.password }, { csrf: null })
    expect(res.statusCode).toBe(403)
    expect(res.body).toContain(EXPIRED)
    expect(await sessionCount()).toBe(before)
  })

  it("another visitor's token does not work (the token is bound to its own visitor)", async () => {
    // Attack: the attacker loads the form, keeps the token, and makes the victim's browser post it.
    const attacker = new TestBrowser(t.app)
    const stolen = await attacker.csrfFrom('/signup')
    const victim = new TestBrowser(t.app)
    await victim.get('/login') // the victim has a token cookie of their own
    const res = await victim.post('/signup', { fullName: 'Forged', email: 'forged@example.com', password: 'a-long-enough-pass', confirmPassword: 'a-long-enough-pass' }, { csrf: stolen })
    expect(res.statusCode).toBe(403)
    expect(res.body).toContain(EXPIRED)
    const users = await t.db.kysely.selectFrom('users').select('id').where('email', '=', 'forged@example.com').execute()
    expect(users).toHaveLength(0)
  })

  it("a signed-in user's forms refuse an anonymous token and another user's session token", async () => {
    const victim = new TestBrowser(t.app)
    await victim.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const other = new TestBrowser(t.app)
    await other.signup('Other Person', 'other@example.com', 'other-person-pass-1')
    const foreign = extractCsrf((await other.get('/')).body)
    const anonymousToken = await new TestBrowser(t.app).csrfFrom('/login')
    for (const token of [foreign, anonymousToken, '', 'garbage']) {
      const res = await victim.post('/account/sessions/end-others', {}, { csrf: token })
      expect(res.statusCode).toBe(403)
    }
    // Logout is protected too: a forged logout leaves the session alone.
    const forgedLogout = await victim.post('/logout', {}, { csrf: foreign })
    expect(forgedLogout.statusCode).toBe(403)
    expect((await victim.get('/account')).statusCode).toBe(200)
  })

  it('a foreign Origin is refused even with a valid token', async () => {
    const browser = new TestBrowser(t.app)
    const res = await browser.post('/login', { email: DEMO_STAFF.email, password: DEMO_STAFF.password }, { headers: { origin: 'https://evil.example' } })
    expect(res.statusCode).toBe(403)
    expect(res.body).toContain(EXPIRED)
    const nullOrigin = await browser.post('/login', { email: DEMO_STAFF.email, password: DEMO_STAFF.password }, { headers: { origin: 'null' } })
    expect(nullOrigin.statusCode).toBe(403)
  })

  it('a cross-site fetch (Sec-Fetch-Site: cross-site) is refused even with a valid token', async () => {
    const browser = new TestBrowser(t.app)
    const res = await browser.post('/login', { email: DEMO_STAFF.email, password: DEMO_STAFF.password }, { headers: { 'sec-fetch-site': 'cross-site' } })
    expect(res.statusCode).toBe(403)
  })

  it('the same Origin with a valid token is accepted', async () => {
    const browser = new TestBrowser(t.app)
    const res = await browser.post('/login', { email: DEMO_STAFF.email, password: DEMO_STAFF.password }, { headers: { origin: 'http://localhost:80', host: 'localhost:80', 'sec-fetch-site': 'same-origin' } })
    expect(res.statusCode).toBe(303)
  })

  it('Origin: null (a no-referrer page posting its own form) is accepted only with Sec-Fetch-Site: same-origin and the token', async () => {
    const browser = new TestBrowser(t.app)
    const same = await browser.post('/login', { email: DEMO_STAFF.email, password: DEMO_STAFF.password }, { headers: { origin: 'null', 'sec-fetch-site': 'same-origin' } })
    expect(same.statusCode).toBe(303)
    const other = new TestBrowser(t.app)
    const crossSite = await other.post('/login', { email: DEMO_STAFF.email, password: DEMO_STAFF.password }, { headers: { origin: 'null', 'sec-fetch-site': 'cross-site' } })
    expect(crossSite.statusCode).toBe(403)
    const noToken = await other.post('/login', { email: DEMO_STAFF.email, password: DEMO_STAFF.password }, { headers: { origin: 'null', 'sec-fetch-site': 'same-origin' }, csrf: null })
    expect(noToken.statusCode).toBe(403)
  })

  it('the token rotates at login: the anonymous token no longer works once signed in', async () => {
    const browser = new TestBrowser(t.app)
    const anonymousToken = await browser.csrfFrom('/login')
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const signedInToken = extractCsrf((await browser.get('/')).body)
    expect(signedInToken).not.toBe(anonymousToken)
    expect((await browser.post('/logout', {}, { csrf: anonymousToken })).statusCode).toBe(403)
    expect((await browser.post('/logout', {}, { csrf: signedInToken })).statusCode).toBe(303)
  })
})
