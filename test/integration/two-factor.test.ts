/**
 * Two-factor authentication (issue 17) through HTTP: codes are computed in the test from the secret the
 * page shows (RFC 6238, test/helpers/totp.ts), at the app's hand-moved clock, so step edges are exact.
 * Runs on SQLite and PostgreSQL, with a real SMTP server for the notices.
 */
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/main.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, fieldError, flashText, TestBrowser } from '../helpers/browser.js'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js'
import { STEP_MS, totpCode } from '../helpers/totp.js'

const WRONG_CODE = 'That code is not right. Please try again.'
const MINUTE_MS = 60_000

let smtp: TestSmtp
let t: TestApp
beforeAll(async () => {
  smtp = await startTestSmtp()
  t = await createTestApp({ env: { SMTP_URL: smtp.url, PUBLIC_URL: 'http://localhost:8080', SIGNUPS_PER_IP_PER_HOUR: '1000', LOGIN_FAILURES_PER_IP_PER_MINUTE: '1000' } })
})
afterAll(async () => {
  await t.close()
  await smtp.close()
})

let counter = 0
interface Account { email: string, password: string, browser: TestBrowser }

async function newAccount (): Promise<Account> {
  const email = `twofactor${++counter}@example.com`
  const password = 'two factor password 1'
  const browser = new TestBrowser(t.app)
  expect((await browser.signup(`Two Factor ${counter}`, email, password)).statusCode).toBe(303)
  return { email, password, browser }
}

function secretOn (html: string): string {
  const secret = /data-secret="([A-Z2-7]+)"/.exec(html)?.[1]
  if (secret === undefined) throw new Error('no secret on the page')
  return secret
}

function recoveryCodesOn (html: string): string[] {
  return [...html.matchAll(/<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})<\/code><\/li>/g)].map((m) => m[1]!)
}

/** Moves the clock to the start of a fresh 30-second step, so no earlier code of this test can be replayed by accident. */
function nextStep (): void {
  t.clock.set((Math.floor(t.clock() / STEP_MS) + 1) * STEP_MS + 1_000)
}

async function enable (account: Account): Promise<{ secret: string, codes: string[] }> {
  const setup = await account.browser.get('/account/two-factor')
  const secret = secretOn(setup.body)
  nextStep()
  const res = await account.browser.post('/account/two-factor/enable', { code: totpCode(secret, t.clock()) }, { from: '/account/two-factor' })
  expect(res.statusCode).toBe(200)
  return { secret, codes: recoveryCodesOn(res.body) }
}

async function passwordStep (account: Account, browser = new TestBrowser(t.app), next?: string) {
  const res = await browser.login(account.email, account.password, next === undefined ? {} : { next })
  return { browser, res }
}

async function isSignedIn (browser: TestBrowser): Promise<boolean> {
  return (await browser.get('/')).body.includes('class="nav-user"')
}

describe('setting it up', () => {
  it('shows an inline SVG QR code, the 160-bit secret in base32 and the otpauth URI; nothing is on until a code confirms it', async () => {
    const account = await newAccount()
    const page = await account.browser.get('/account/two-factor')
    expect(page.statusCode).toBe(200)
    expect(page.body).toMatch(/<div class="qr" role="img" aria-label="[^"]+"><svg[^>]*>/)
    expect(page.body).not.toContain('<script')
    const secret = secretOn(page.body)
    expect(secret).toHaveLength(32)
    const uri = `otpauth://totp/Paws%20Rescue%20Center:${encodeURIComponent(account.email)}?secret=${secret}&issuer=Paws%20Rescue%20Center`
    expect(page.body).toContain(`<a href="${uri}">Open it in your authenticator app</a>`)
    // The same secret until it is confirmed: reloading the page does not invalidate a scanned code.
    expect(secretOn((await account.browser.get('/account/two-factor')).body)).toBe(secret)
    const stored = await t.db.kysely.selectFrom('users').select(['two_factor_pending_secret', 'two_factor_secret', 'two_factor_enabled_at']).where('email', '=', account.email).executeTakeFirstOrThrow()
    expect(stored).toMatchObject({ two_factor_secret: null, two_factor_enabled_at: null })
    expect(stored.two_factor_pending_secret).toMatch(/^v1\./)
    expect(stored.two_factor_pending_secret).not.toContain(secret)
    // Still off: a login asks only for the password.
    expect((await passwordStep(account)).res.headers.location).toBe('/')
  })

  it('a wrong code is refused and changes nothing; a right one turns it on and shows 10 recovery codes once, stored hashed', async () => {
    const account = await newAccount()
    const secret = secretOn((await account.browser.get('/account/two-factor')).body)
    const wrong = await account.browser.post('/account/two-factor/enable', { code: '000000' }, { from: '/account/two-factor' })
    expect(wrong.statusCode).toBe(400)
    expect(fieldError(wrong.body, 'code')).toBe(WRONG_CODE)
    nextStep()
    const before = smtp.received.length
    const res = await account.browser.post('/account/two-factor/enable', { code: totpCode(secret, t.clock()) }, { from: '/account/two-factor' })
    expect(res.statusCode).toBe(200)
    const codes = recoveryCodesOn(res.body)
    expect(codes).toHaveLength(10)
    expect(new Set(codes).size).toBe(10)
    const rows = await t.db.kysely.selectFrom('recovery_codes').innerJoin('users', 'users.id', 'recovery_codes.user_id').select('code_hash').where('users.email', '=', account.email).execute()
    expect(rows).toHaveLength(10)
    for (const code of codes) expect(JSON.stringify(rows)).not.toContain(code.replace(/-/g, ''))
    const stored = await t.db.kysely.selectFrom('users').select('two_factor_secret').where('email', '=', account.email).executeTakeFirstOrThrow()
    expect(stored.two_factor_secret).not.toContain(secret)
    const account_ = await account.browser.get('/account')
    expect(account_.body).toContain('On, with 10 recovery codes left.')
    await t.app.outbox.idle()
    await smtp.waitFor((m) => m.to === account.email && m.subject.includes('Two-factor authentication is on') && smtp.received.indexOf(m) >= before)
    expect(account_.body).toContain('Two-factor authentication turned on')
  })
})

describe('logging in with it', () => {
  it('a right password answers 303 to /login/two-factor and creates no session; a right code starts it with the flash and the safe next', async () => {
    const account = await newAccount()
    const { secret } = await enable(account)
    const { browser, res } = await passwordStep(account, undefined, '/account')
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/login/two-factor')
    expect(res.cookies.some((c) => c.name.includes('paws_session'))).toBe(false)
    expect(await isSignedIn(browser)).toBe(false)
    expect((await browser.get('/login/two-factor')).body).toContain('name="code"')

    const wrong = await browser.post('/login/two-factor', { code: totpCode(secret, t.clock()) === '123456' ? '654321' : '123456' })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.body).toContain(WRONG_CODE)
    nextStep()
    const ok = await browser.post('/login/two-factor', { code: totpCode(secret, t.clock()) })
    expect(ok.statusCode).toBe(303)
    expect(ok.headers.location).toBe('/account')
    expect(flashText((await browser.follow(ok)).body)).toBe('Successfully logged in!')
    expect(await isSignedIn(browser)).toBe(true)
  })

  it('the pending login is bound to its browser: another browser cannot use it, and it ends after 5 minutes', async () => {
    const account = await newAccount()
    const { secret } = await enable(account)
    const { browser } = await passwordStep(account)
    const other = new TestBrowser(t.app)
    nextStep()
    const stolen = await other.post('/login/two-factor', { code: totpCode(secret, t.clock()) }, { from: '/login' })
    expect(stolen.statusCode).toBe(303)
    expect(stolen.headers.location).toBe('/login')
    expect(await isSignedIn(other)).toBe(false)

    t.clock.advance(5 * MINUTE_MS)
    const late = await browser.get('/login/two-factor')
    expect(late.headers.location).toBe('/login')
    expect(flashText((await browser.follow(late)).body)).toBe('Your login took too long. Please log in again.')
  })

  it('accepts a code one step either side of now, and not two', async () => {
    const account = await newAccount()
    const { secret } = await enable(account)
    for (const [offset, accepted] of [[-2, false], [2, false], [-1, true], [1, true]] as const) {
      nextStep()
      nextStep()
      nextStep()
      const { browser } = await passwordStep(account)
      const res = await browser.post('/login/two-factor', { code: totpCode(secret, t.clock() + offset * STEP_MS) })
      expect(res.statusCode, `offset ${offset}`).toBe(accepted ? 303 : 401)
    }
  })

  it('a code is accepted once: the same time step cannot log in twice', async () => {
    // Attack: a code seen over someone's shoulder, or phished, replayed within its 30 seconds.
    const account = await newAccount()
    const { secret } = await enable(account)
    nextStep()
    const code = totpCode(secret, t.clock())
    const first = await passwordStep(account)
    expect((await first.browser.post('/login/two-factor', { code })).statusCode).toBe(303)
    const second = await passwordStep(account)
    expect((await second.browser.post('/login/two-factor', { code })).statusCode).toBe(401)
  })

  it('5 wrong codes end the pending login, and count as failed logins for the per-account lock', async () => {
    const account = await newAccount()
    const { secret } = await enable(account)
    const { browser } = await passwordStep(account)
    for (let i = 0; i < 4; i++) expect((await browser.post('/login/two-factor', { code: '999999' })).statusCode).toBe(401)
    const fifth = await browser.post('/login/two-factor', { code: '999999' })
    expect(fifth.headers.location).toBe('/login')
    expect(flashText((await browser.follow(fifth)).body)).toBe('Too many wrong codes. Please log in again.')
    nextStep()
    expect((await browser.post('/login/two-factor', { code: totpCode(secret, t.clock()) }, { from: '/login' })).headers.location).toBe('/login')
    // Five failures lock the account's door, as five wrong passwords would.
    expect((await passwordStep(account)).res.statusCode).toBe(429)
    t.clock.advance(16 * MINUTE_MS)
  })

  it('a recovery code logs in once, in any case and with or without dashes; /account counts what is left', async () => {
    const account = await newAccount()
    const { codes } = await enable(account)
    const first = await passwordStep(account)
    expect((await first.browser.post('/login/two-factor', { code: codes[0]!.toUpperCase().replace(/-/g, ' ') })).statusCode).toBe(303)
    expect((await first.browser.get('/account')).body).toContain('On, with 9 recovery codes left.')
    const again = await passwordStep(account)
    expect((await again.browser.post('/login/two-factor', { code: codes[0]! })).statusCode).toBe(401)
  })

  it('no code or secret reaches the log', async () => {
    const account = await newAccount()
    const { secret, codes } = await enable(account)
    nextStep()
    const code = totpCode(secret, t.clock())
    const { browser } = await passwordStep(account)
    await browser.post('/login/two-factor', { code })
    const all = t.logs.join('\n')
    expect(all).toContain('login succeeded (second factor)')
    for (const value of [secret, code, ...codes, ...codes.map((c) => c.replace(/-/g, ''))]) expect(all).not.toContain(value)
  })
})

describe('with suspension', () => {
  it('a suspended account is refused at the password step, and a pending login suspended since cannot be finished', async () => {
    const account = await newAccount()
    const { secret } = await enable(account)
    const { browser } = await passwordStep(account)
    const staff = new TestBrowser(t.app)
    await staff.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const user = await t.db.kysely.selectFrom('users').select('id').where('email', '=', account.email).executeTakeFirstOrThrow()
    expect((await staff.post(`/staff/people/${user.id}/suspend`, { reason: 'testing the second factor' }, { from: `/staff/people/${user.id}` })).statusCode).toBe(303)
    nextStep()
    const late = await browser.post('/login/two-factor', { code: totpCode(secret, t.clock()) }, { from: '/login' })
    expect(late.headers.location).toBe('/login')
    expect(await isSignedIn(browser)).toBe(false)
    const again = await passwordStep(account)
    expect(again.res.statusCode).toBe(403)
    expect(again.res.body).toContain('This account is suspended. Please contact the rescue team.')
  })
})

describe('managing it', () => {
  it('turning it off needs the password and a current code; then an event, a notice, and logins without a code', async () => {
    const account = await newAccount()
    const { secret } = await enable(account)
    nextStep()
    const wrongPassword = await account.browser.post('/account/two-factor/disable', { disablePassword: 'not it at all', code: totpCode(secret, t.clock()) }, { from: '/account/two-factor' })
    expect(fieldError(wrongPassword.body, 'disablePassword')).toBe('That is not your current password.')
    const wrongCode = await account.browser.post('/account/two-factor/disable', { disablePassword: account.password, code: '000000' }, { from: '/account/two-factor' })
    expect(fieldError(wrongCode.body, 'code')).toBe(WRONG_CODE)
    nextStep()
    const before = smtp.received.length
    const off = await account.browser.post('/account/two-factor/disable', { disablePassword: account.password, code: totpCode(secret, t.clock()) }, { from: '/account/two-factor' })
    expect(off.headers.location).toBe('/account')
    expect(flashText((await account.browser.follow(off)).body)).toBe('Two-factor authentication is off.')
    expect((await passwordStep(account)).res.headers.location).toBe('/')
    await t.app.outbox.idle()
    await smtp.waitFor((m) => m.to === account.email && m.subject.includes('Two-factor authentication is off') && smtp.received.indexOf(m) >= before)
  })

  it('new recovery codes need the password, and the old ones die', async () => {
    const account = await newAccount()
    const { codes } = await enable(account)
    const refused = await account.browser.post('/account/two-factor/recovery-codes', { password: 'wrong password here' }, { from: '/account/two-factor' })
    expect(fieldError(refused.body, 'password')).toBe('That is not your current password.')
    const res = await account.browser.post('/account/two-factor/recovery-codes', { password: account.password }, { from: '/account/two-factor' })
    const fresh = recoveryCodesOn(res.body)
    expect(fresh).toHaveLength(10)
    expect((await (await passwordStep(account)).browser.post('/login/two-factor', { code: codes[1]! })).statusCode).toBe(401)
    expect((await (await passwordStep(account)).browser.post('/login/two-factor', { code: fresh[0]! })).statusCode).toBe(303)
  })

  it('npm run cli -- two-factor-reset EMAIL turns it off, with an event and a notice', async () => {
    const account = await newAccount()
    await enable(account)
    const out = new PassThrough()
    let text = ''
    out.on('data', (c) => { text += String(c) })
    const env = { DATABASE_URL: t.config.database.kind === 'sqlite' ? t.config.database.file : t.config.database.url, SECRET_KEY: t.config.secretKey ?? '' }
    const before = smtp.received.length
    expect(await runCli(['two-factor-reset', account.email], { stdin: new PassThrough(), stdout: out, stderr: new PassThrough() }, env)).toBe(0)
    expect(text).toContain(`Two-factor authentication is off for ${account.email}`)
    expect((await passwordStep(account)).res.headers.location).toBe('/')
    // The CLI wrote the notice at the real time; the app's sender, on its hand-moved clock, catches up.
    t.clock.set(Math.max(t.clock(), Date.now() + MINUTE_MS))
    await t.app.outbox.deliverDue()
    await smtp.waitFor((m) => m.to === account.email && m.subject.includes('Two-factor authentication was reset') && smtp.received.indexOf(m) >= before)
  })
})

describe('REQUIRE_STAFF_TWO_FACTOR=true', () => {
  it('sends staff without 2FA to /account/two-factor before any staff page or action, saying why; with it on, they pass', async () => {
    const strict = await createTestApp({ env: { REQUIRE_STAFF_TWO_FACTOR: 'true' } })
    try {
      const staff = new TestBrowser(strict.app)
      await staff.login(DEMO_STAFF.email, DEMO_STAFF.password)
      const page = await staff.get('/pets/new')
      expect(page.statusCode).toBe(303)
      expect(page.headers.location).toBe('/account/two-factor')
      const setup = await staff.follow(page)
      expect(flashText(setup.body)).toBe('The rescue team&#39;s accounts need two-factor authentication. Please set it up to continue.')
      expect(setup.body).toContain('need two-factor authentication before they can manage pets or people')
      const action = await staff.post('/pets/new', { name: 'Sneaky', age: '1 year', bio: 'Added without a second factor.' }, { from: '/' })
      expect(action.statusCode).toBe(303)
      expect(action.headers.location).toBe('/account/two-factor')
      expect(await strict.db.kysely.selectFrom('pets').select('id').where('name', '=', 'Sneaky').executeTakeFirst()).toBeUndefined()

      const secret = secretOn(setup.body)
      strict.clock.set((Math.floor(strict.clock() / STEP_MS) + 1) * STEP_MS)
      expect((await staff.post('/account/two-factor/enable', { code: totpCode(secret, strict.clock()) }, { from: '/account/two-factor' })).statusCode).toBe(200)
      // The session's user is read again after the write: the next request sees 2FA on.
      expect((await staff.get('/pets/new')).statusCode).toBe(200)
      // An adopter is unaffected by the rule.
      const adopter = new TestBrowser(strict.app)
      await adopter.signup('Plain Adopter', 'plain-adopter@example.com', 'plain adopter password')
      expect((await adopter.get('/account')).statusCode).toBe(200)
    } finally {
      await strict.close()
    }
  })
})

describe('rotating SECRET_KEY', () => {
  it('two-factor secrets survive SECRET_KEY_PREVIOUS: sealed again at start, they still open once the old key is gone', async () => {
    const oldKey = 'the-old-secret-key-that-is-long-enough-0123456789'
    const newKey = 'the-new-secret-key-that-is-long-enough-9876543210'
    const first = await createTestApp({ env: { SECRET_KEY: oldKey } })
    const databaseUrl = first.config.database.kind === 'sqlite' ? first.config.database.file : first.config.database.url
    first.clock.set(Date.UTC(2026, 11, 1, 12, 0, 0))
    const account = { email: 'rotating@example.com', password: 'rotating key password', browser: new TestBrowser(first.app) }
    await account.browser.signup('Rotating', account.email, account.password)
    const secret = secretOn((await account.browser.get('/account/two-factor')).body)
    expect((await account.browser.post('/account/two-factor/enable', { code: totpCode(secret, first.clock()) }, { from: '/account/two-factor' })).statusCode).toBe(200)
    await first.app.close()

    const logInWithCode = async (app: TestApp, at: number) => {
      app.clock.set(at)
      const browser = new TestBrowser(app.app)
      expect((await browser.login(account.email, account.password)).headers.location).toBe('/login/two-factor')
      return (await browser.post('/login/two-factor', { code: totpCode(secret, at) })).statusCode
    }
    const during = await createTestApp({ databaseUrl, env: { SECRET_KEY: newKey, SECRET_KEY_PREVIOUS: oldKey } })
    try {
      expect(await logInWithCode(during, Date.UTC(2026, 11, 1, 12, 5, 0))).toBe(303)
      expect(during.logs.some((l) => l.includes('two-factor secrets sealed again with the current key'))).toBe(true)
    } finally {
      await during.app.close()
    }
    const after = await createTestApp({ databaseUrl, env: { SECRET_KEY: newKey } })
    try {
      expect(await logInWithCode(after, Date.UTC(2026, 11, 1, 12, 10, 0))).toBe(303)
    } finally {
      await after.close()
      await first.close()
    }
  })
})
