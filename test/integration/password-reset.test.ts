/**
 * Password reset (issue 16, OWASP Forgot Password cheat sheet), through HTTP with a real SMTP server: the
 * same answer for every address, a single-use hashed link that expires, the password rules, and what a
 * reset ends (sessions, other links, the login lock). Runs on SQLite and PostgreSQL.
 */
import { describe, expect, it } from 'vitest'
import { hashToken } from '../../src/auth/tokens.js'
import { createTestApp } from '../helpers/app.js'
import { fieldError, flashText, TestBrowser } from '../helpers/browser.js'
import { linkIn, type ReceivedMail } from '../helpers/smtp.js'
import { useAppWithMail } from '../helpers/mail-app.js'

const PUBLIC_URL = 'https://paws.example.org'
const RESET_ANSWER = 'If an account uses that email, a link to reset its password is on its way.'
const INVALID_LINK = 'This link is invalid or has expired.'
const MINUTE_MS = 60_000

const site = useAppWithMail({ PUBLIC_URL, SIGNUPS_PER_IP_PER_HOUR: '1000', PASSWORD_RESET_REQUESTS_PER_IP_PER_HOUR: '1000' })

let counter = 0
async function newAccount (password = 'original password 1'): Promise<{ email: string, password: string, browser: TestBrowser }> {
  const email = `reset${++counter}@example.com`
  const browser = new TestBrowser(site.t.app)
  expect((await browser.signup(`Reset ${counter}`, email, password)).statusCode).toBe(303)
  return { email, password, browser }
}

/** Asks for a reset link as an anonymous visitor and waits until the app has done what the request started. */
async function askForReset (email: string, browser = new TestBrowser(site.t.app)) {
  const res = await browser.post('/password-reset', { email })
  await site.t.app.outbox.idle()
  return res
}

async function resetMailFor (email: string, after = 0): Promise<ReceivedMail> {
  return await site.smtp.waitFor((m) => m.to === email && m.subject.includes('Reset your password') && site.smtp.received.indexOf(m) >= after)
}

async function resetLinkFor (email: string): Promise<string> {
  const before = site.smtp.received.length
  await askForReset(email)
  return linkIn(await resetMailFor(email, before), `${PUBLIC_URL}/password-reset/`)
}

function pathOf (link: string): string {
  return new URL(link).pathname
}

async function isSignedIn (browser: TestBrowser): Promise<boolean> {
  return (await browser.get('/')).body.includes('class="nav-user"')
}

describe('asking for a reset link', () => {
  it('/login links "Forgot your password?" to /password-reset, a form with an email field', async () => {
    const login = await new TestBrowser(site.t.app).get('/login')
    expect(login.body).toContain('<a href="/password-reset">Forgot your password?</a>')
    const page = await new TestBrowser(site.t.app).get('/password-reset')
    expect(page.statusCode).toBe(200)
    expect(page.body).toMatch(/<input[^>]*name="email"/)
  })

  it('answers the same page, status and text for a known and an unknown address; the unknown one gets no email', async () => {
    // Attack: telling which addresses have accounts from the answer.
    const { email } = await newAccount()
    const before = site.smtp.received.length
    const known = await askForReset(email)
    const unknown = await askForReset('nobody-here@example.com')
    expect(known.statusCode).toBe(200)
    expect(unknown.statusCode).toBe(200)
    const strip = (html: string) => html.replace(/name="_csrf" value="[^"]+"/, '')
    expect(strip(known.body)).toBe(strip(unknown.body))
    expect(known.body).toContain(RESET_ANSWER)
    await resetMailFor(email, before)
    const resets = site.smtp.received.slice(before).filter((m) => m.subject.includes('Reset your password'))
    expect(resets.map((m) => m.to)).toEqual([email])
    expect(await site.t.db.kysely.selectFrom('mail_outbox').select('id').where('recipient', '=', 'nobody-here@example.com').execute()).toEqual([])
  })

  it('an address that is not an address gets a field message and a 400, and nothing is sent', async () => {
    const before = site.smtp.received.length
    const res = await askForReset('not an address')
    expect(res.statusCode).toBe(400)
    expect(fieldError(res.body, 'email')).toBe('Enter a valid email address, like name@example.com.')
    expect(site.smtp.received.length).toBe(before)
  })

  it('mails "Reset your password" with PUBLIC_URL/password-reset/<token>: 256 random bits, stored only as a hash, the body emptied once sent', async () => {
    const { email } = await newAccount()
    const link = await resetLinkFor(email)
    const token = link.slice(`${PUBLIC_URL}/password-reset/`.length)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const rows = await site.t.db.kysely.selectFrom('one_time_tokens').selectAll().where('purpose', '=', 'password_reset').execute()
    expect(rows.some((r) => r.id === hashToken(token))).toBe(true)
    expect(JSON.stringify(rows)).not.toContain(token)
    const stored = await site.t.db.kysely.selectFrom('mail_outbox').selectAll().where('recipient', '=', email).where('kind', '=', 'password_reset').execute()
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({ text_body: '', html_body: '', next_attempt_at: null })
    expect(stored[0]!.sent_at).not.toBeNull()
    const mail = site.smtp.received.find((m) => m.to === email && m.subject.includes('Reset your password'))!
    expect(mail.html).toContain(link)
  })

  it('at most 3 reset emails an account an hour: the 4th request is answered the same and sends nothing', async () => {
    const { email } = await newAccount()
    const before = site.smtp.received.length
    for (let i = 0; i < 4; i++) expect((await askForReset(email)).body).toContain(RESET_ANSWER)
    const sent = site.smtp.received.slice(before).filter((m) => m.to === email && m.subject.includes('Reset your password'))
    expect(sent).toHaveLength(3)
    site.t.clock.advance(61 * MINUTE_MS)
  })
})

describe('at most 10 reset requests per client address an hour', () => {
  it('the 11th gets 429 with Retry-After, and sends nothing', async () => {
    const limited = await createTestApp({ env: { SMTP_URL: site.smtp.url, PUBLIC_URL } })
    try {
      const browser = new TestBrowser(limited.app)
      for (let i = 0; i < 10; i++) expect((await browser.post('/password-reset', { email: `someone${i}@example.com` })).statusCode).toBe(200)
      const refused = await browser.post('/password-reset', { email: 'team@pawsrescue.co' })
      expect(refused.statusCode).toBe(429)
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
      await limited.app.outbox.idle()
      expect(await limited.db.kysely.selectFrom('mail_outbox').select('id').where('kind', '=', 'password_reset').execute()).toEqual([])
    } finally {
      await limited.close()
    }
  })
})

describe('the link', () => {
  it('opens a form with password and confirmPassword, sent with Referrer-Policy: no-referrer', async () => {
    const { email } = await newAccount()
    const page = await new TestBrowser(site.t.app).get(pathOf(await resetLinkFor(email)))
    expect(page.statusCode).toBe(200)
    expect(page.headers['referrer-policy']).toBe('no-referrer')
    expect(page.body).toMatch(/<input[^>]*name="password"/)
    expect(page.body).toMatch(/<input[^>]*name="confirmPassword"/)
  })

  it('an unknown or malformed token gets a 404 page "This link is invalid or has expired." with a link to ask again', async () => {
    for (const path of ['/password-reset/' + 'A'.repeat(43), '/password-reset/short', '/password-reset/%00%01']) {
      const res = await new TestBrowser(site.t.app).get(path)
      expect(res.statusCode).toBe(404)
      expect(res.body).toContain(INVALID_LINK)
      expect(res.body).toContain('href="/password-reset"')
    }
    const post = await new TestBrowser(site.t.app).post('/password-reset/' + 'A'.repeat(43), { password: 'a brand new password', confirmPassword: 'a brand new password' }, { from: '/password-reset' })
    expect(post.statusCode).toBe(404)
  })

  it('expires after PASSWORD_RESET_TTL_MINUTES (60)', async () => {
    const { email } = await newAccount()
    const path = pathOf(await resetLinkFor(email))
    site.t.clock.advance(59 * MINUTE_MS)
    expect((await new TestBrowser(site.t.app).get(path)).statusCode).toBe(200)
    site.t.clock.advance(MINUTE_MS)
    const expired = await new TestBrowser(site.t.app).get(path)
    expect(expired.statusCode).toBe(404)
    expect(expired.body).toContain(INVALID_LINK)
  })

  it('applies the sign-up password rules with field messages, and stays usable after a refused form', async () => {
    const { email } = await newAccount()
    const path = pathOf(await resetLinkFor(email))
    const browser = new TestBrowser(site.t.app)
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ password: 'short', confirmPassword: 'short' }, 'password', 'Use at least 8 characters.'],
      [{ password: 'password123', confirmPassword: 'password123' }, 'password', 'This password is too common. Please choose another.'],
      [{ password: 'a brand new password', confirmPassword: 'something else entirely' }, 'confirmPassword', 'The passwords do not match.']
    ]
    for (const [fields, field, message] of cases) {
      const res = await browser.post(path, fields)
      expect(res.statusCode).toBe(400)
      expect(fieldError(res.body, field)).toBe(message)
      expect(res.body).not.toContain(fields.password)
    }
    expect((await browser.post(path, { password: 'a brand new password', confirmPassword: 'a brand new password' })).statusCode).toBe(303)
  })
})

describe('a successful reset', () => {
  it('sets the password, ends every session, kills other links, clears the login lock, records an event, mails a notice, and signs nobody in', async () => {
    const { email, password, browser: signedIn } = await newAccount()
    const first = pathOf(await resetLinkFor(email))
    const second = pathOf(await resetLinkFor(email))
    // Lock the account's door with wrong passwords: the reset must open it.
    const attacker = new TestBrowser(site.t.app)
    for (let i = 0; i < 5; i++) await attacker.login(email, 'wrong password here')
    expect((await attacker.login(email, password)).statusCode).toBe(429)

    const visitor = new TestBrowser(site.t.app)
    const before = site.smtp.received.length
    const res = await visitor.post(first, { password: 'my new secret phrase', confirmPassword: 'my new secret phrase' })
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/login')
    const login = await visitor.follow(res)
    expect(flashText(login.body)).toBe('Your password has been reset. Please log in.')
    expect(await isSignedIn(visitor)).toBe(false)
    expect(await isSignedIn(signedIn)).toBe(false)

    // Used once: the same link, and every other link of the account, now fail.
    expect((await new TestBrowser(site.t.app).get(first)).statusCode).toBe(404)
    expect((await new TestBrowser(site.t.app).get(second)).statusCode).toBe(404)

    expect((await new TestBrowser(site.t.app).login(email, password)).statusCode).toBe(401)
    expect((await new TestBrowser(site.t.app).login(email, 'my new secret phrase')).statusCode).toBe(303)

    await site.t.app.outbox.idle()
    const notice = await site.smtp.waitFor((m) => m.to === email && m.subject.includes('Your password was changed') && site.smtp.received.indexOf(m) >= before)
    expect(notice.text).not.toMatch(/password-reset\/[A-Za-z0-9_-]{43}/)
    const user = await site.t.db.kysely.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()
    const events = await site.t.db.kysely.selectFrom('account_events').select('type').where('user_id', '=', user.id).execute()
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['password_reset_requested', 'password_reset']))
  })

  it('two requests racing with one link: one sets the password, the other finds the link used', async () => {
    const { email } = await newAccount()
    const path = pathOf(await resetLinkFor(email))
    const [a, b] = [new TestBrowser(site.t.app), new TestBrowser(site.t.app)]
    const tokens = await Promise.all([a.csrfFrom(path), b.csrfFrom(path)])
    const results = await Promise.all([
      a.post(path, { password: 'first racer password', confirmPassword: 'first racer password' }, { csrf: tokens[0] }),
      b.post(path, { password: 'second racer password', confirmPassword: 'second racer password' }, { csrf: tokens[1] })
    ])
    expect(results.map((r) => r.statusCode).sort()).toEqual([303, 404])
  })

  it('a password change on the account page kills reset links sent before it and mails a notice', async () => {
    const { email, password, browser } = await newAccount()
    const path = pathOf(await resetLinkFor(email))
    const before = site.smtp.received.length
    const changed = await browser.post('/account/password', { currentPassword: password, newPassword: 'changed on the page 9', confirmPassword: 'changed on the page 9' }, { from: '/account' })
    expect(changed.statusCode).toBe(303)
    expect((await new TestBrowser(site.t.app).get(path)).statusCode).toBe(404)
    await site.t.app.outbox.idle()
    await site.smtp.waitFor((m) => m.to === email && m.subject.includes('Your password was changed') && site.smtp.received.indexOf(m) >= before)
  })
})

describe('the log', () => {
  it('with SMTP_URL set, no token, link or password reaches the log, the request URL included', async () => {
    const { email } = await newAccount()
    const link = await resetLinkFor(email)
    const token = link.slice(`${PUBLIC_URL}/password-reset/`.length)
    const browser = new TestBrowser(site.t.app)
    await browser.get(pathOf(link))
    await browser.post(pathOf(link), { password: 'logged nowhere at all', confirmPassword: 'logged nowhere at all' })
    await site.t.app.outbox.idle()
    const all = site.t.logs.join('\n')
    expect(all).toContain('"route":"/password-reset/:token"')
    expect(all).not.toContain(token)
    expect(all).not.toContain(hashToken(token))
    expect(all).not.toContain('logged nowhere at all')
  })
})
