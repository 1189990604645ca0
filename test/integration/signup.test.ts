/** Sign up: validation with a message by each field, unique emails even under a race, and signing in. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { TestBrowser, fieldError, fieldValue, flashText } from '../helpers/browser.js'

let t: TestApp
beforeAll(async () => { t = await createTestApp({ env: { SIGNUPS_PER_IP_PER_HOUR: '1000' } }) })
afterAll(async () => { await t.close() })

async function accounts (email: string): Promise<number> {
  return (await t.db.kysely.selectFrom('users').select('id').where('email', '=', email).execute()).length
}

describe('sign up', () => {
  it('success creates an adopter account, signs the new user in and says "Successfully signed up!"', async () => {
    const browser = new TestBrowser(t.app)
    const res = await browser.signup('Ada Lovelace', '  Ada@Example.COM ', 'analytical engine 1843')
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/')
    const home = await browser.follow(res)
    expect(flashText(home.body)).toBe('Successfully signed up!')
    expect(home.body).toContain('>Ada Lovelace</a>')
    const row = await t.db.kysely.selectFrom('users').selectAll().where('email', '=', 'ada@example.com').executeTakeFirstOrThrow()
    expect(row.role).toBe('adopter')
    expect(row.password_hash).toMatch(/^\$argon2id\$/)
  })

  it('a failed form comes back with status 400, a message by each field and the typed values, minus passwords', async () => {
    const browser = new TestBrowser(t.app)
    const res = await browser.signup('', 'not-an-email', 'short', 'different')
    expect(res.statusCode).toBe(400)
    expect(fieldError(res.body, 'fullName')).toBe('Enter your name.')
    expect(fieldError(res.body, 'email')).toBe('Enter a valid email address, like name@example.com.')
    expect(fieldError(res.body, 'password')).toBe('Use at least 8 characters.')
    expect(fieldValue(res.body, 'email')).toBe('not-an-email')
    expect(fieldValue(res.body, 'password')).toBe('')
    expect(fieldValue(res.body, 'confirmPassword')).toBe('')
    expect(res.body).not.toContain('different')
    expect(await accounts('not-an-email')).toBe(0)
  })

  it('names are required and at most 100 characters', async () => {
    const browser = new TestBrowser(t.app)
    const long = await browser.signup('x'.repeat(101), 'long@example.com', 'a fine password 1')
    expect(long.statusCode).toBe(400)
    expect(fieldError(long.body, 'fullName')).toBe('Use at most 100 characters.')
    expect(fieldValue(long.body, 'fullName')).toBe('x'.repeat(101))
    const blank = await browser.signup('   ', 'blank@example.com', 'a fine password 1')
    expect(fieldError(blank.body, 'fullName')).toBe('Enter your name.')
  })

  it('passwords: 8 to 256 characters, not a common password, confirmed', async () => {
    const browser = new TestBrowser(t.app)
    const common = await browser.signup('Common', 'common@example.com', 'iloveyou123')
    expect(fieldError(common.body, 'password')).toBe('This password is too common. Please choose another.')
    const tooLong = await browser.signup('Long', 'long2@example.com', 'a'.repeat(257))
    expect(fieldError(tooLong.body, 'password')).toBe('Use at most 256 characters.')
    const mismatch = await browser.signup('Mismatch', 'mismatch@example.com', 'a fine password 1', 'a fine password 2')
    expect(fieldError(mismatch.body, 'confirmPassword')).toBe('The passwords do not match.')
    expect(await accounts('common@example.com') + await accounts('long2@example.com') + await accounts('mismatch@example.com')).toBe(0)
  })

  it('any Unicode works as a password, counted in characters', async () => {
    const browser = new TestBrowser(t.app)
    const password = 'пароль🐾ñ日本'
    expect([...password].length).toBe(10)
    expect((await browser.signup('Unicode', 'unicode@example.com', password)).statusCode).toBe(303)
    await browser.logout()
    expect((await browser.login('unicode@example.com', password)).statusCode).toBe(303)
    const eight = new TestBrowser(t.app)
    expect((await eight.signup('Eight', 'eight@example.com', '🐾🐾🐾🐾🐾🐾🐾🐾')).statusCode).toBe(303)
  })

  it('an email already registered, in any case: "An account with this email already exists." and no second account', async () => {
    const browser = new TestBrowser(t.app)
    const res = await browser.signup('Impostor', ' TEAM@PawsRescue.co', 'another password 9')
    expect(res.statusCode).toBe(400)
    expect(fieldError(res.body, 'email')).toBe('An account with this email already exists.')
    expect(fieldValue(res.body, 'fullName')).toBe('Impostor')
    expect(await accounts('team@pawsrescue.co')).toBe(1)
  })

  it('20 concurrent sign-ups with one email give one account and no 5xx', async () => {
    const browsers = Array.from({ length: 20 }, () => new TestBrowser(t.app))
    const tokens = await Promise.all(browsers.map(async (b) => await b.csrfFrom('/signup')))
    const results = await Promise.all(browsers.map(async (b, i) =>
      await b.post('/signup', { fullName: `Racer ${i}`, email: 'race@example.com', password: 'racing to the finish', confirmPassword: 'racing to the finish' }, { csrf: tokens[i]! })))
    const statuses = results.map((r) => r.statusCode)
    expect(statuses.filter((s) => s === 303)).toHaveLength(1)
    expect(statuses.filter((s) => s === 400)).toHaveLength(19)
    for (const r of results.filter((x) => x.statusCode === 400)) expect(fieldError(r.body, 'email')).toBe('An account with this email already exists.')
    expect(await accounts('race@example.com')).toBe(1)
  })

  it('a signed-in user visiting /signup or /login is sent home', async () => {
    const browser = new TestBrowser(t.app)
    await browser.signup('Already In', 'already@example.com', 'already signed in 1')
    expect((await browser.get('/signup')).headers.location).toBe('/')
    expect((await browser.get('/login')).headers.location).toBe('/')
  })
})
