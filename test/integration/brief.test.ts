/** The original brief, point by point: each test is named after the point it proves. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, TestBrowser, fieldValue, flashText, formErrorText } from '../helpers/browser.js'
import { hashToken } from '../../src/auth/tokens.js'

let t: TestApp
beforeAll(async () => { t = await createTestApp() })
afterAll(async () => { await t.close() })

const WRONG = 'Wrong credentials. Please try again.'

describe('the brief', () => {
  it('1. authentication: POST /login checks the credentials against the users table', async () => {
    const browser = new TestBrowser(t.app)
    const res = await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    expect(res.statusCode).toBe(303)
    const row = await t.db.kysely.selectFrom('users').select('id').where('email', '=', DEMO_STAFF.email).executeTakeFirstOrThrow()
    const sessions = await t.db.kysely.selectFrom('sessions').selectAll().where('user_id', '=', row.id).execute()
    expect(sessions.length).toBeGreaterThan(0)
  })

  it('2. wrong credentials: the login page again with exactly "Wrong credentials. Please try again.", for an unknown email and a wrong password alike', async () => {
    const browser = new TestBrowser(t.app)
    const wrongPassword = await browser.login(DEMO_STAFF.email, 'not the password')
    const unknownEmail = await browser.login('nobody@example.com', 'whatever123')
    for (const res of [wrongPassword, unknownEmail]) {
      expect(res.statusCode).toBe(401)
      expect(formErrorText(res.body)).toBe(WRONG)
      expect(res.body).toContain('<h1>Log in</h1>')
      expect(res.headers['set-cookie']?.toString() ?? '').not.toContain('paws_session=')
    }
    // The typed email stays in the field; the password does not.
    expect(fieldValue(wrongPassword.body, 'email')).toBe(DEMO_STAFF.email)
    expect(fieldValue(unknownEmail.body, 'email')).toBe('nobody@example.com')
    expect(fieldValue(wrongPassword.body, 'password')).toBe('')
    expect(wrongPassword.body).not.toContain('not the password')
    // The two pages differ only in the echoed email and the form token.
    const normalise = (html: string) => html.replace(/value="[^"]*"/g, 'value=""')
    expect(normalise(wrongPassword.body)).toBe(normalise(unknownEmail.body))
  })

  it('3. right credentials: a new session, a 303 to home, and a one-time "Successfully logged in!"', async () => {
    const browser = new TestBrowser(t.app)
    const res = await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/')
    const home = await browser.follow(res)
    expect(flashText(home.body)).toBe('Successfully logged in!')
    const again = await browser.get('/')
    expect(flashText(again.body)).toBeNull()
  })

  it('3. right credentials with next: the redirect goes to the same-site path asked for', async () => {
    const browser = new TestBrowser(t.app)
    const res = await browser.login(DEMO_STAFF.email, DEMO_STAFF.password, { next: '/account' })
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/account')
  })

  it('4. the user in the session: the session row holds the user id, and every view receives the user', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const token = browser.cookies.get('paws_session')!.value
    const row = await t.db.kysely.selectFrom('sessions').innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['users.email']).where('sessions.id', '=', hashToken(token)).executeTakeFirstOrThrow()
    expect(row.email).toBe(DEMO_STAFF.email)
    for (const url of ['/', '/about', '/account', '/logout', '/nowhere']) {
      const page = await browser.get(url)
      expect(page.body, url).toContain('>Pet Rescue Team</a>')
    }
  })

  it('5. logout: POST /logout deletes the session on the server, clears the cookie and redirects (303) home with a one-time "You have been logged out."', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const token = browser.cookies.get('paws_session')!.value
    const res = await browser.logout()
    expect(res.statusCode).toBe(303)
    // Home, with a marker: Clear-Site-Data wipes every cookie of this response, the message's included.
    expect(res.headers.location).toBe('/?logged-out')
    expect(res.headers['clear-site-data']).toBe('"cookies"')
    expect(browser.cookies.has('paws_session')).toBe(false)
    const row = await t.db.kysely.selectFrom('sessions').select('id').where('id', '=', hashToken(token)).executeTakeFirst()
    expect(row).toBeUndefined()
    browser.cookies.clear() // what the browser does on Clear-Site-Data: "cookies"
    const marked = await browser.follow(res)
    expect(marked.statusCode).toBe(303)
    expect(marked.headers.location).toBe('/')
    const home = await browser.follow(marked)
    expect(flashText(home.body)).toBe('You have been logged out.')
    expect(home.body).toContain('href="/login"')
    expect(flashText((await browser.get('/')).body)).toBeNull()
  })

  it('5. GET /logout changes nothing: it shows a page with a Log out button', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const page = await browser.get('/logout')
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('<form method="post" action="/logout" class="form">')
    const still = await browser.get('/account')
    expect(still.statusCode).toBe(200)
  })

  it('6. navbar: Sign up and Log in for a visitor; the name linking to /account and a Log out button once signed in', async () => {
    const browser = new TestBrowser(t.app)
    const anonymous = await browser.get('/')
    expect(anonymous.body).toContain('<a href="/signup">Sign up</a>')
    expect(anonymous.body).toContain('<a href="/login">Log in</a>')
    expect(anonymous.body).not.toContain('Log out')
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const signedIn = await browser.get('/about')
    expect(signedIn.body).toContain('<a href="/account" class="nav-user">Pet Rescue Team</a>')
    expect(signedIn.body).toMatch(/<form method="post" action="\/logout" class="inline-form"><input type="hidden" name="_csrf" value="[^"]+"\/><button type="submit" class="button button-small">Log out<\/button><\/form>/)
    expect(signedIn.body).not.toContain('href="/signup"')
    expect(signedIn.body).not.toContain('href="/login"')
  })
})
