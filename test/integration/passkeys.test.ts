/**
 * Passkeys (issue 18) through HTTP, with a software authenticator (test/helpers/webauthn.ts) answering the
 * options the app sends, as the browser script would. Every refusal is a 4xx that changes nothing: no
 * session, no passkey, no counter moved. Runs on SQLite and PostgreSQL, with a real SMTP server for the notices.
 */
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { extractCsrf, flashText, TestBrowser } from '../helpers/browser.js'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js'
import { SoftAuthenticator } from '../helpers/webauthn.js'

const ORIGIN = 'http://localhost:8080'
const RP_ID = 'localhost'
const CHALLENGE_TTL_MS = 5 * 60_000

let smtp: TestSmtp
let t: TestApp
beforeAll(async () => {
  smtp = await startTestSmtp()
  t = await createTestApp({ env: { SMTP_URL: smtp.url, PUBLIC_URL: ORIGIN, SIGNUPS_PER_IP_PER_HOUR: '1000', LOGIN_FAILURES_PER_IP_PER_MINUTE: '1000' } })
})
afterAll(async () => {
  await t.close()
  await smtp.close()
})

let counter = 0
interface Account { email: string, password: string, browser: TestBrowser }

async function newAccount (): Promise<Account> {
  const email = `passkey${++counter}@example.com`
  const password = 'passkey password 1'
  const browser = new TestBrowser(t.app)
  expect((await browser.signup(`Passkey ${counter}`, email, password)).statusCode).toBe(303)
  return { email, password, browser }
}

async function postJson (browser: TestBrowser, url: string, body: unknown, { csrfFrom, csrf, raw }: { csrfFrom?: string, csrf?: string | null, raw?: string } = {}): Promise<LightMyRequestResponse> {
  const token = csrf === undefined ? extractCsrf((await browser.get(csrfFrom ?? '/login')).body) : csrf
  return await browser.request({
    method: 'POST',
    url,
    payload: raw ?? JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { 'x-csrf-token': token }) }
  })
}

async function addPasskey (account: Account, authenticator = new SoftAuthenticator(RP_ID, ORIGIN)): Promise<SoftAuthenticator> {
  const options = await postJson(account.browser, '/passkeys/register/options', {}, { csrfFrom: '/account' })
  expect(options.statusCode).toBe(200)
  const verify = await postJson(account.browser, '/passkeys/register/verify', { response: authenticator.register(options.json()) }, { csrfFrom: '/account' })
  expect(verify.statusCode).toBe(201)
  expect(verify.json()).toEqual({ redirect: '/account' })
  return authenticator
}

async function loginOptions (browser: TestBrowser): Promise<{ challenge: string }> {
  const options = await postJson(browser, '/passkeys/login/options', {})
  expect(options.statusCode).toBe(200)
  return options.json()
}

async function passkeyRows (): Promise<Array<{ counter: number, last_used_at: number | null }>> {
  return await t.db.kysely.selectFrom('passkeys').select(['counter', 'last_used_at']).execute()
}

describe('passkeys over HTTP', () => {
  it('a passkey added on /account logs in: a new session, "Successfully logged in!", the safe next; the owner is mailed', async () => {
    const account = await newAccount()
    const authenticator = await addPasskey(account)
    const page = await account.browser.get('/account')
    expect(flashText(page.body)).toBe('Your passkey has been added.')
    expect(page.body).toContain('Passkey added')
    await smtp.waitFor((m) => m.to.includes(account.email) && m.subject.startsWith('A passkey was added'))
    await account.browser.logout()

    const anonymous = new TestBrowser(t.app)
    const options = await loginOptions(anonymous)
    const login = await postJson(anonymous, '/passkeys/login/verify', { response: authenticator.assert(options), next: '/account', remember: false })
    expect(login.statusCode).toBe(200)
    expect(login.json()).toEqual({ redirect: '/account' })
    const after = await anonymous.get('/account')
    expect(after.statusCode).toBe(200)
    expect(flashText(after.body)).toBe('Successfully logged in!')
    expect(after.body).not.toContain('>Never<')
    expect(t.logs.join('\n')).not.toContain(options.challenge)
  })

  it('a passkey login satisfies two-factor authentication: no code is asked for', async () => {
    const account = await newAccount()
    const authenticator = await addPasskey(account)
    // Set up directly: the code step has its own tests (two-factor.test.ts).
    await t.db.kysely.updateTable('users').set({ two_factor_enabled_at: t.clock(), two_factor_secret: 'sealed' }).where('email', '=', account.email).execute()
    const anonymous = new TestBrowser(t.app)
    const login = await postJson(anonymous, '/passkeys/login/verify', { response: authenticator.assert(await loginOptions(anonymous)), next: '/account' })
    expect(login.statusCode).toBe(200)
    expect((await anonymous.get('/account')).statusCode).toBe(200)
  })

  it('a foreign next falls back to home', async () => {
    const account = await newAccount()
    const authenticator = await addPasskey(account)
    const anonymous = new TestBrowser(t.app)
    const login = await postJson(anonymous, '/passkeys/login/verify', { response: authenticator.assert(await loginOptions(anonymous)), next: '//evil.example/' })
    expect(login.json()).toEqual({ redirect: '/' })
  })

  it('bad JSON is a 400 with a JSON answer, never a 500', async () => {
    const anonymous = new TestBrowser(t.app)
    const response = await postJson(anonymous, '/passkeys/login/verify', null, { raw: '{"response": ' })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toHaveProperty('error')
    const notAnObject = await postJson(anonymous, '/passkeys/login/verify', ['x'])
    expect(notAnObject.statusCode).toBe(400)
  })

  it('JSON is accepted by the passkey endpoints only; other content types get 415, large bodies 413', async () => {
    const anonymous = new TestBrowser(t.app)
    const token = extractCsrf((await anonymous.get('/login')).body)
    const json = await anonymous.request({ method: 'POST', url: '/login', payload: JSON.stringify({ email: 'a@b.c', password: 'x', _csrf: token }), headers: { 'content-type': 'application/json' } })
    expect(json.statusCode).toBe(415)
    const text = await anonymous.request({ method: 'POST', url: '/passkeys/login/options', payload: 'x', headers: { 'content-type': 'text/plain', 'x-csrf-token': token } })
    expect(text.statusCode).toBe(415)
    const large = await postJson(anonymous, '/passkeys/login/verify', { padding: 'x'.repeat(70 * 1024) })
    expect(large.statusCode).toBe(413)
  })

  it('a JSON request without the form token, or with a wrong one, is refused with 403', async () => {
    const anonymous = new TestBrowser(t.app)
    await anonymous.get('/login')
    expect((await postJson(anonymous, '/passkeys/login/options', {}, { csrf: null })).statusCode).toBe(403)
    expect((await postJson(anonymous, '/passkeys/login/options', {}, { csrf: 'x'.repeat(43) })).statusCode).toBe(403)
    const account = await newAccount()
    expect((await postJson(account.browser, '/passkeys/register/options', {}, { csrf: null })).statusCode).toBe(403)
  })

  it('adding a passkey needs a session', async () => {
    const anonymous = new TestBrowser(t.app)
    expect((await postJson(anonymous, '/passkeys/register/options', {})).statusCode).toBe(401)
  })

  it('a replayed answer is refused: the challenge was used up', async () => {
    const account = await newAccount()
    const authenticator = await addPasskey(account)
    const attacker = new TestBrowser(t.app)
    const options = await loginOptions(attacker)
    const challengeCookie = [...attacker.cookies].find(([name]) => name.endsWith('paws_webauthn'))!
    const answer = authenticator.assert(options)
    expect((await postJson(attacker, '/passkeys/login/verify', { response: answer })).statusCode).toBe(200)
    const replay = new TestBrowser(t.app)
    await replay.get('/login')
    replay.cookies.set(challengeCookie[0], challengeCookie[1])
    const before = await passkeyRows()
    const again = await postJson(replay, '/passkeys/login/verify', { response: answer })
    expect(again.statusCode).toBe(400)
    expect([...replay.cookies.keys()].some((name) => name.endsWith('paws_session'))).toBe(false)
    expect(await passkeyRows()).toEqual(before)
  })

  it('an expired challenge is refused', async () => {
    const account = await newAccount()
    const authenticator = await addPasskey(account)
    const anonymous = new TestBrowser(t.app)
    const options = await loginOptions(anonymous)
    t.clock.advance(CHALLENGE_TTL_MS)
    const late = await postJson(anonymous, '/passkeys/login/verify', { response: authenticator.assert(options) })
    expect(late.statusCode).toBe(400)
    expect((await anonymous.get('/account')).statusCode).toBe(303)
  })

  it('a challenge asked for by another browser is refused', async () => {
    const account = await newAccount()
    const authenticator = await addPasskey(account)
    const asker = new TestBrowser(t.app)
    const options = await loginOptions(asker)
    const other = new TestBrowser(t.app)
    await other.get('/login')
    const stolen = await postJson(other, '/passkeys/login/verify', { response: authenticator.assert(options) })
    expect(stolen.statusCode).toBe(400)
    // The other browser's own challenge is not the one signed either.
    await loginOptions(other)
    const mismatched = await postJson(other, '/passkeys/login/verify', { response: authenticator.assert(options) })
    expect(mismatched.statusCode).toBe(401)
    expect((await other.get('/account')).statusCode).toBe(303)
  })

  it('an unknown credential is refused with 401', async () => {
    const anonymous = new TestBrowser(t.app)
    const stranger = new SoftAuthenticator(RP_ID, ORIGIN)
    const response = await postJson(anonymous, '/passkeys/login/verify', { response: stranger.assert(await loginOptions(anonymous)) })
    expect(response.statusCode).toBe(401)
    expect(response.json()).toEqual({ error: 'That passkey did not log you in. Please try again, or log in with your password.' })
  })

  it('an answer made for another origin is refused, and the counter does not move', async () => {
    const account = await newAccount()
    const authenticator = await addPasskey(account)
    const before = await passkeyRows()
    const anonymous = new TestBrowser(t.app)
    const response = await postJson(anonymous, '/passkeys/login/verify', { response: authenticator.assert(await loginOptions(anonymous), { origin: 'https://evil.example' }) })
    expect(response.statusCode).toBe(401)
    expect(await passkeyRows()).toEqual(before)
  })

  it('a registration made for another origin, or without user verification, adds nothing', async () => {
    const account = await newAccount()
    for (const bent of [{ origin: 'https://evil.example' }, { verified: false }]) {
      const options = await postJson(account.browser, '/passkeys/register/options', {}, { csrfFrom: '/account' })
      const verify = await postJson(account.browser, '/passkeys/register/verify', { response: new SoftAuthenticator(RP_ID, ORIGIN).register(options.json(), bent) }, { csrfFrom: '/account' })
      expect(verify.statusCode).toBe(400)
    }
    expect((await account.browser.get('/account')).body).toContain('You have no passkeys yet.')
  })

  it('an assertion without user verification, or with a counter that went back (a clone), is refused', async () => {
    const account = await newAccount()
    const authenticator = await addPasskey(account)
    const anonymous = new TestBrowser(t.app)
    expect((await postJson(anonymous, '/passkeys/login/verify', { response: authenticator.assert(await loginOptions(anonymous), { verified: false }) })).statusCode).toBe(401)
    expect((await postJson(anonymous, '/passkeys/login/verify', { response: authenticator.assert(await loginOptions(anonymous)) })).statusCode).toBe(200)
    const clone = new TestBrowser(t.app)
    authenticator.counter -= 2
    expect((await postJson(clone, '/passkeys/login/verify', { response: authenticator.assert(await loginOptions(clone)) })).statusCode).toBe(401)
  })

  it('a passkey belongs to one account: registering it again is refused', async () => {
    const first = await newAccount()
    const authenticator = await addPasskey(first)
    const second = await newAccount()
    const options = await postJson(second.browser, '/passkeys/register/options', {}, { csrfFrom: '/account' })
    const verify = await postJson(second.browser, '/passkeys/register/verify', { response: authenticator.register(options.json()) }, { csrfFrom: '/account' })
    expect(verify.statusCode).toBe(409)
  })

  it('a removed passkey can no longer log in; renaming and removing are recorded, removing is mailed', async () => {
    const account = await newAccount()
    const authenticator = await addPasskey(account)
    const id = (await t.db.kysely.selectFrom('passkeys').select('id').where('credential_id', '=', authenticator.credentialId).executeTakeFirstOrThrow()).id
    const renamed = await account.browser.post(`/account/passkeys/${id}/rename`, { name: 'Work laptop' }, { from: '/account' })
    expect(renamed.statusCode).toBe(303)
    const page = await account.browser.get('/account')
    expect(page.body).toContain('value="Work laptop"')
    expect(page.body).toContain('Passkey renamed')
    const empty = await account.browser.post(`/account/passkeys/${id}/rename`, { name: '  ' }, { from: '/account' })
    expect(empty.statusCode).toBe(400)

    const stranger = await newAccount()
    expect((await stranger.browser.post(`/account/passkeys/${id}/remove`, {}, { from: '/account' })).statusCode).toBe(303)
    expect(await t.db.kysely.selectFrom('passkeys').select('id').where('id', '=', id).executeTakeFirst()).toBeDefined()

    expect((await account.browser.post(`/account/passkeys/${id}/remove`, {}, { from: '/account' })).statusCode).toBe(303)
    expect(flashText((await account.browser.get('/account')).body)).toBe('Your passkey has been removed. It can no longer log in.')
    await smtp.waitFor((m) => m.to.includes(account.email) && m.subject.startsWith('A passkey was removed'))
    const anonymous = new TestBrowser(t.app)
    const login = await postJson(anonymous, '/passkeys/login/verify', { response: authenticator.assert(await loginOptions(anonymous)) })
    expect(login.statusCode).toBe(401)
  })
})

describe('passkey logins and the throttle', () => {
  it('failed passkey logins count against the client address: past the limit even a right passkey gets 429', async () => {
    const strict = await createTestApp({ env: { SMTP_URL: smtp.url, PUBLIC_URL: ORIGIN, LOGIN_FAILURES_PER_IP_PER_MINUTE: '2' } })
    try {
      const owner = new TestBrowser(strict.app)
      expect((await owner.signup('Throttled Passkey', 'throttled-passkey@example.com', 'passkey password 1')).statusCode).toBe(303)
      const options = await owner.request({ method: 'POST', url: '/passkeys/register/options', payload: '{}', headers: { 'content-type': 'application/json', 'x-csrf-token': extractCsrf((await owner.get('/account')).body) } })
      const authenticator = new SoftAuthenticator(RP_ID, ORIGIN)
      const csrf = extractCsrf((await owner.get('/account')).body)
      const added = await owner.request({ method: 'POST', url: '/passkeys/register/verify', payload: JSON.stringify({ response: authenticator.register(options.json()) }), headers: { 'content-type': 'application/json', 'x-csrf-token': csrf } })
      expect(added.statusCode).toBe(201)

      const visitor = new TestBrowser(strict.app)
      const attempt = async (answer: (options: { challenge: string }) => unknown) => {
        const token = extractCsrf((await visitor.get('/login')).body)
        const headers = { 'content-type': 'application/json', 'x-csrf-token': token }
        const challenge = await visitor.request({ method: 'POST', url: '/passkeys/login/options', payload: '{}', headers })
        return await visitor.request({ method: 'POST', url: '/passkeys/login/verify', payload: JSON.stringify({ response: answer(challenge.json()) }), headers })
      }
      const stranger = new SoftAuthenticator(RP_ID, ORIGIN)
      expect((await attempt((o) => stranger.assert(o))).statusCode).toBe(401)
      expect((await attempt((o) => stranger.assert(o))).statusCode).toBe(401)
      const refused = await attempt((o) => authenticator.assert(o))
      expect(refused.statusCode).toBe(429)
      expect(refused.headers['retry-after']).toBeDefined()
      expect((await visitor.get('/account')).statusCode).toBe(303)
    } finally {
      await strict.close()
    }
  })
})
