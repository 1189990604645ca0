/**
 * Confirming an address and changing it (issue 16), through HTTP with a real SMTP server: the link that
 * sign-up mails, a GET that changes nothing (mail scanners open links), a POST that confirms without a
 * session, the account page's "not confirmed" and its capped "send a new link", REQUIRE_EMAIL_VERIFICATION,
 * and a change of address that waits for the new address. Runs on SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, fieldError, fieldValue, flashText, TestBrowser } from '../helpers/browser.js'
import { linkIn, type ReceivedMail, startTestSmtp, type TestSmtp } from '../helpers/smtp.js'

const PUBLIC_URL = 'http://localhost:8080'
const HOUR_MS = 3_600_000

let smtp: TestSmtp
let t: TestApp
beforeAll(async () => {
  smtp = await startTestSmtp()
  t = await createTestApp({ env: { SMTP_URL: smtp.url, PUBLIC_URL, SIGNUPS_PER_IP_PER_HOUR: '1000' } })
})
afterAll(async () => {
  await t.close()
  await smtp.close()
})

let counter = 0
function nextEmail (): string {
  return `address${++counter}@example.com`
}

async function mailTo (email: string, subject: string, after = 0): Promise<ReceivedMail> {
  await t.app.outbox.idle()
  return await smtp.waitFor((m) => m.to === email && m.subject.includes(subject) && smtp.received.indexOf(m) >= after)
}

function confirmPath (mail: ReceivedMail): string {
  return new URL(linkIn(mail, `${PUBLIC_URL}/verify-email/`)).pathname
}

async function signUp (app = t.app, email = nextEmail(), password = 'original password 1') {
  const browser = new TestBrowser(app)
  const res = await browser.signup('Address Owner', email, password)
  return { email, password, browser, res }
}

async function isConfirmed (email: string): Promise<boolean> {
  const row = await t.db.kysely.selectFrom('users').select('email_verified_at').where('email', '=', email).executeTakeFirstOrThrow()
  return row.email_verified_at !== null
}

describe('confirming an address', () => {
  it('sign-up mails "Confirm your email address" with PUBLIC_URL/verify-email/<token>; /account says "not confirmed"', async () => {
    const { email, browser } = await signUp()
    const mail = await mailTo(email, 'Confirm your email address')
    expect(linkIn(mail, `${PUBLIC_URL}/verify-email/`)).toMatch(/\/verify-email\/[A-Za-z0-9_-]{43}$/)
    expect(mail.text).toContain('24 hours')
    const account = await browser.get('/account')
    expect(account.body).toContain('not confirmed')
    expect(account.body).toContain('action="/account/verify-email"')
  })

  it('GET shows a "Confirm" button and changes nothing; POST confirms without being signed in, once', async () => {
    const { email, browser } = await signUp()
    const path = confirmPath(await mailTo(email, 'Confirm your email address'))
    const phone = new TestBrowser(t.app)
    for (let i = 0; i < 3; i++) {
      const page = await phone.get(path)
      expect(page.statusCode).toBe(200)
      expect(page.headers['referrer-policy']).toBe('no-referrer')
      expect(page.body).toContain('>Confirm</button>')
    }
    expect(await isConfirmed(email)).toBe(false)
    const confirmed = await phone.post(path, {})
    expect(confirmed.statusCode).toBe(303)
    expect(confirmed.headers.location).toBe('/login')
    expect(flashText((await phone.follow(confirmed)).body)).toBe('Your email address is confirmed.')
    expect(await isConfirmed(email)).toBe(true)
    expect((await browser.get('/account')).body).not.toContain('not confirmed')
    const again = await phone.post(path, {}, { from: '/login' })
    expect(again.statusCode).toBe(404)
    expect(again.body).toContain('This link is invalid or has expired.')
    // The token never reaches the log, the request URLs included.
    const token = path.slice('/verify-email/'.length)
    expect(t.logs.join('\n')).toContain('"route":"/verify-email/:token"')
    expect(t.logs.join('\n')).not.toContain(token)
  })

  it('signed in as the owner, confirming lands on /account with the message', async () => {
    const { email, browser } = await signUp()
    const path = confirmPath(await mailTo(email, 'Confirm your email address'))
    const res = await browser.post(path, {})
    expect(res.headers.location).toBe('/account')
    expect(flashText((await browser.follow(res)).body)).toBe('Your email address is confirmed.')
  })

  it('the link expires after 24 hours', async () => {
    const { email } = await signUp()
    const path = confirmPath(await mailTo(email, 'Confirm your email address'))
    t.clock.advance(24 * HOUR_MS)
    const res = await new TestBrowser(t.app).post(path, {}, { from: '/login' })
    expect(res.statusCode).toBe(404)
    expect(await isConfirmed(email)).toBe(false)
  })

  it('"Send a new confirmation link" mails one, at most 3 an hour (sign-up counts), then 429', async () => {
    const { email, browser } = await signUp()
    await mailTo(email, 'Confirm your email address')
    for (let i = 0; i < 2; i++) {
      const before = smtp.received.length
      const res = await browser.post('/account/verify-email', {}, { from: '/account' })
      expect(res.statusCode).toBe(303)
      expect(flashText((await browser.follow(res)).body)).toBe('We have sent you a new link. Please check your email.')
      await mailTo(email, 'Confirm your email address', before)
    }
    const refused = await browser.post('/account/verify-email', {}, { from: '/account' })
    expect(refused.statusCode).toBe(429)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    t.clock.advance(HOUR_MS)
  })

  it('the demo staff account is confirmed', async () => {
    expect(await isConfirmed(DEMO_STAFF.email)).toBe(true)
  })
})

describe('REQUIRE_EMAIL_VERIFICATION=true', () => {
  it('sign-up does not sign in but says "Check your email"; the right password before confirming sends a new link; after it, login works', async () => {
    const strict = await createTestApp({ env: { SMTP_URL: smtp.url, PUBLIC_URL, REQUIRE_EMAIL_VERIFICATION: 'true' } })
    try {
      const email = nextEmail()
      const { browser, res, password } = await signUp(strict.app, email)
      expect(res.statusCode).toBe(200)
      expect(res.body).toContain('Check your email')
      expect((await browser.get('/')).body).not.toContain('class="nav-user"')
      await strict.app.outbox.idle()
      await smtp.waitFor((m) => m.to === email && m.subject.includes('Confirm your email address'))

      const before = smtp.received.length
      const early = await new TestBrowser(strict.app).login(email, password)
      expect(early.statusCode).toBe(403)
      expect(early.body).toContain('Please confirm your email address first. We have sent you a new link.')
      expect(early.cookies.some((c) => c.name.includes('session'))).toBe(false)
      await strict.app.outbox.idle()
      const fresh = await smtp.waitFor((m) => m.to === email && m.subject.includes('Confirm your email address') && smtp.received.indexOf(m) >= before)

      const visitor = new TestBrowser(strict.app)
      expect((await visitor.post(confirmPath(fresh), {})).statusCode).toBe(303)
      expect((await visitor.login(email, password)).statusCode).toBe(303)
    } finally {
      await strict.close()
    }
  })
})

describe('changing the address', () => {
  it('a wrong password is refused like a wrong password change, and nothing is sent', async () => {
    const { browser, email } = await signUp()
    await mailTo(email, 'Confirm your email address')
    const before = smtp.received.length
    const res = await browser.post('/account/email', { newEmail: nextEmail(), password: 'not my password' }, { from: '/account' })
    expect(res.statusCode).toBe(400)
    expect(fieldError(res.body, 'password')).toBe('That is not your current password.')
    await t.app.outbox.idle()
    expect(smtp.received.length).toBe(before)
  })

  it('an address in use: "An account with this email already exists."', async () => {
    const { browser, password } = await signUp()
    const res = await browser.post('/account/email', { newEmail: DEMO_STAFF.email, password }, { from: '/account' })
    expect(res.statusCode).toBe(400)
    expect(fieldError(res.body, 'newEmail')).toBe('An account with this email already exists.')
    expect(fieldValue(res.body, 'newEmail')).toBe(DEMO_STAFF.email)
  })

  it('the new address gets a link and the old one a notice; the address changes only when the link is confirmed, then every other session ends', async () => {
    const { email, password, browser } = await signUp()
    const laptop = new TestBrowser(t.app)
    await laptop.login(email, password)
    const newEmail = nextEmail()
    const before = smtp.received.length
    const res = await browser.post('/account/email', { newEmail, password }, { from: '/account' })
    expect(res.statusCode).toBe(303)
    const account = await browser.follow(res)
    expect(flashText(account.body)).toBe('We have sent a link to your new address. Your email address changes once you follow it.')
    expect(account.body).toContain(newEmail)

    const link = await mailTo(newEmail, 'Confirm your email address', before)
    const notice = await mailTo(email, 'A change of your email address was asked for', before)
    expect(notice.text).toContain(newEmail)
    expect(notice.text).not.toContain('/verify-email/')
    expect((await t.db.kysely.selectFrom('users').select('email').where('email', '=', email).executeTakeFirst())?.email).toBe(email)

    const confirm = await browser.post(confirmPath(link), {})
    expect(confirm.headers.location).toBe('/account')
    expect((await browser.follow(confirm)).body).toContain(`<span>${newEmail}</span>`)
    expect(await isConfirmed(newEmail)).toBe(true)
    expect((await laptop.get('/')).body).not.toContain('class="nav-user"')
    expect((await browser.get('/')).body).toContain('class="nav-user"')
    await mailTo(email, 'Your email address was changed', before)
    expect((await new TestBrowser(t.app).login(newEmail, password)).statusCode).toBe(303)
    expect((await new TestBrowser(t.app).login(email, password)).statusCode).toBe(401)
  })

  it('an address taken between the request and the confirmation: nothing changes', async () => {
    const { email, password, browser } = await signUp()
    const wanted = nextEmail()
    const before = smtp.received.length
    await browser.post('/account/email', { newEmail: wanted, password }, { from: '/account' })
    const link = await mailTo(wanted, 'Confirm your email address', before)
    expect((await signUp(t.app, wanted)).res.statusCode).toBe(303)
    const res = await browser.post(confirmPath(link), {})
    expect(res.statusCode).toBe(409)
    expect(res.body).toContain('An account with this email already exists.')
    expect(await t.db.kysely.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()).toBeDefined()
  })
})
