/**
 * The access log (src/http/access-log.ts), through the real app: one line per request at info, with the
 * route pattern (never the URL), the status, the time and the signed-in account; the path without its
 * query for a request that matched no route; nothing of an emailed link's token, a password, a session
 * or a form token in any line of a whole journey; "incoming request" only at debug, with the token cut
 * out; nothing at warn. Runs on SQLite and PostgreSQL.
 */
import { describe, expect, it } from 'vitest'
import { hashToken } from '../../src/auth/tokens.js'
import { ACCESS_LOG_MESSAGE } from '../../src/http/access-log.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { extractCsrf, TestBrowser } from '../helpers/browser.js'
import { linkIn, type ReceivedMail } from '../helpers/smtp.js'
import { useAppWithMail } from '../helpers/mail-app.js'

const PUBLIC_URL = 'https://paws.example.org'
const RESET_PREFIX = `${PUBLIC_URL}/password-reset/`
const VERIFY_PREFIX = `${PUBLIC_URL}/verify-email/`

interface LogLine {
  level: number
  time: number
  pid: number
  hostname: string
  msg: string
  reqId?: string
  method?: string
  route?: string
  path?: string
  status?: number
  ms?: number
  userId?: number
  req?: { method: string, url: string }
}

const site = useAppWithMail({ PUBLIC_URL, SIGNUPS_PER_IP_PER_HOUR: '1000', PASSWORD_RESET_REQUESTS_PER_IP_PER_HOUR: '1000' })

function parse (lines: readonly string[]): LogLine[] {
  return lines.map((l) => JSON.parse(l) as LogLine)
}

function accessLines (lines: readonly string[]): LogLine[] {
  return parse(lines).filter((l) => l.msg === ACCESS_LOG_MESSAGE)
}

/**
 * Makes one request and returns every line written while it ran, and the one access line among them
 * (exactly one is expected). The app is used by one test at a time, so the access line written during
 * the request is this request's; its reqId then finds every other line of the request.
 */
async function logged<R> (app: TestApp, send: () => Promise<R>) {
  const before = app.logs.length
  const res = await send()
  const written = app.logs.slice(before)
  const access = accessLines(written)
  expect(access, `access lines for one request:\n${written.join('')}`).toHaveLength(1)
  const line = access[0]!
  const ofRequest = parse(written).filter((l) => l.reqId === line.reqId)
  return { res, line, ofRequest, written }
}

let counter = 0
async function signUp (app = site.t, password = 'access log password 1') {
  const email = `access${++counter}@example.com`
  const browser = new TestBrowser(app.app)
  expect((await browser.signup(`Access ${counter}`, email, password)).statusCode).toBe(303)
  const user = await app.db.kysely.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()
  return { email, password, browser, id: Number(user.id) }
}

async function mailTo (email: string, subject: string, after: number): Promise<ReceivedMail> {
  await site.t.app.outbox.idle()
  return await site.smtp.waitFor((m) => m.to === email && m.subject.includes(subject) && site.smtp.received.indexOf(m) >= after)
}

describe('one line per request, at info', () => {
  it('an anonymous GET / writes one line: msg, reqId, method, route, status, ms, and no userId; no "incoming request" or "request completed"', async () => {
    const { res, line, ofRequest, written } = await logged(site.t, async () => await new TestBrowser(site.t.app).get('/'))
    expect(res.statusCode).toBe(200)
    expect(ofRequest).toEqual([line])
    expect(line).toMatchObject({ level: 30, msg: 'request', method: 'GET', route: '/', status: 200 })
    expect(line.reqId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(typeof line.ms).toBe('number')
    expect(line.ms).toBeGreaterThanOrEqual(0)
    expect(typeof line.time).toBe('number')
    expect(line.pid).toBe(process.pid)
    expect(typeof line.hostname).toBe('string')
    expect(line).not.toHaveProperty('userId')
    expect(line).not.toHaveProperty('path')
    const messages = parse(written).map((l) => l.msg)
    expect(messages).not.toContain('incoming request')
    expect(messages).not.toContain('request completed')
    // Across everything the app has written so far, too.
    expect(site.t.logs.join('')).not.toMatch(/"msg":"(incoming request|request completed)"/)
  })

  it('a signed-in GET / carries the account id as userId', async () => {
    const { browser, id } = await signUp()
    const { res, line } = await logged(site.t, async () => await browser.get('/'))
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('class="nav-user"')
    expect(line).toMatchObject({ route: '/', status: 200, userId: id })
    // Another account, another id: the id is the requester's, not a leftover.
    const other = await signUp()
    expect(other.id).not.toBe(id)
    expect((await logged(site.t, async () => await other.browser.get('/'))).line.userId).toBe(other.id)
  })

  it('a pet page logs the route pattern /pets/:id, not the URL', async () => {
    const pet = await site.t.db.kysely.selectFrom('pets').select('id').orderBy('id').executeTakeFirstOrThrow()
    const { res, line, written } = await logged(site.t, async () => await new TestBrowser(site.t.app).get(`/pets/${String(pet.id)}`))
    expect(res.statusCode).toBe(200)
    expect(line).toMatchObject({ method: 'GET', route: '/pets/:id', status: 200 })
    expect(line).not.toHaveProperty('path')
    expect(written.join('')).not.toContain(`/pets/${String(pet.id)}`)
    // A pet that does not exist matched the route all the same: the pattern, and the 404.
    const missing = await logged(site.t, async () => await new TestBrowser(site.t.app).get('/pets/987654321'))
    expect(missing.line).toMatchObject({ route: '/pets/:id', status: 404 })
    expect(missing.written.join('')).not.toContain('987654321')
  })

  it('a request matching no route logs its path without the query string, with a 404, and no line holds the query', async () => {
    const { res, line, ofRequest, written } = await logged(site.t, async () => await new TestBrowser(site.t.app).get('/no-such-page?token=abc&email=x@y.z'))
    expect(res.statusCode).toBe(404)
    expect(ofRequest).toEqual([line])
    expect(line).toMatchObject({ level: 30, method: 'GET', path: '/no-such-page', status: 404 })
    expect(line).not.toHaveProperty('route')
    // Every field of every line, but the ones a short string could turn up in by chance (a UUID, a
    // hexadecimal host name, the time).
    const fields = parse(written).map(({ reqId, hostname, time, pid, ...rest }) => JSON.stringify(rest)).join('\n')
    expect(fields).toContain('/no-such-page')
    expect(fields).not.toContain('abc')
    expect(fields).not.toContain('x@y.z')
    expect(written.join('')).not.toContain('token=')
    expect(written.join('')).not.toContain('not found') // Fastify's "Route GET:/… not found" line is gone
  })

  it('a path that matches no route but starts like an emailed link shows the path with the token cut off', async () => {
    const token = 'Zq9' + 'x'.repeat(40)
    const { line, written } = await logged(site.t, async () => await new TestBrowser(site.t.app).get(`/verify-email/${token}/extra?e=x@y.z`))
    expect(line.status).toBe(404)
    expect(line.path).toBe('/verify-email/[redacted]')
    expect(written.join('')).not.toContain(token)
  })
})

describe('secrets never reach the log', () => {
  it('sign-up, confirming the address, log in, a password reset by link and a new log in: no token, password, session or form token in any line', async () => {
    const before = site.t.logs.length
    const mailsBefore = site.smtp.received.length
    const firstPassword = 'first journey password 7'
    const newPassword = 'second journey password 8'
    const secrets: string[] = [firstPassword, newPassword]
    const { email, browser } = await signUp(site.t, firstPassword)

    // The link that sign-up mails: opened (GET), then confirmed (POST).
    const verifyLink = linkIn(await mailTo(email, 'Confirm your email address', mailsBefore), VERIFY_PREFIX)
    const verifyToken = verifyLink.slice(VERIFY_PREFIX.length)
    secrets.push(verifyToken, hashToken(verifyToken))
    const phone = new TestBrowser(site.t.app)
    expect((await phone.get(new URL(verifyLink).pathname)).statusCode).toBe(200)
    expect((await phone.post(new URL(verifyLink).pathname, {})).statusCode).toBe(303)

    // Log out and in again: the password in a form, a session cookie, a form token.
    await browser.logout()
    const loginPage = await browser.get('/login')
    const loginCsrf = extractCsrf(loginPage.body)
    expect((await browser.post('/login', { email, password: firstPassword }, { csrf: loginCsrf })).statusCode).toBe(303)
    const session = browser.cookies.get('paws_session')?.value
    expect(session).toBeDefined()
    secrets.push(loginCsrf, session!, hashToken(session!), browser.cookies.get('paws_csrf')!.value)
    const account = await browser.get('/account')
    expect(account.statusCode).toBe(200)
    secrets.push(extractCsrf(account.body))

    // A reset link, asked for anonymously, opened and used.
    const resetMailsBefore = site.smtp.received.length
    const visitor = new TestBrowser(site.t.app)
    expect((await visitor.post('/password-reset', { email })).statusCode).toBe(200)
    const resetLink = linkIn(await mailTo(email, 'Reset your password', resetMailsBefore), RESET_PREFIX)
    const resetToken = resetLink.slice(RESET_PREFIX.length)
    secrets.push(resetToken, hashToken(resetToken))
    const resetPath = new URL(resetLink).pathname
    const form = await visitor.get(resetPath)
    expect(form.statusCode).toBe(200)
    const resetCsrf = extractCsrf(form.body)
    secrets.push(resetCsrf)
    const reset = await visitor.post(resetPath, { password: newPassword, confirmPassword: newPassword }, { csrf: resetCsrf })
    expect(reset.statusCode).toBe(303)
    const again = new TestBrowser(site.t.app)
    expect((await again.login(email, newPassword)).statusCode).toBe(303)
    secrets.push(again.cookies.get('paws_session')!.value)
    await site.t.app.outbox.idle()

    const written = site.t.logs.slice(before)
    const all = written.join('')
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(16)
      expect(all, 'a secret in the log').not.toContain(secret)
    }
    expect(all.toLowerCase()).not.toContain('set-cookie')

    // The link requests were logged, by their route pattern, each once.
    const access = accessLines(written)
    const routes = access.map((l) => `${l.method!} ${l.route ?? `path ${l.path!}`} ${l.status!}`)
    expect(routes).toEqual(expect.arrayContaining([
      'GET /verify-email/:token 200',
      'POST /verify-email/:token 303',
      'POST /login 303',
      'POST /password-reset 200',
      'GET /password-reset/:token 200',
      'POST /password-reset/:token 303'
    ]))
    expect(access.filter((l) => l.path !== undefined)).toEqual([])
    // Every request of the journey has its line, and no line is written twice.
    expect(new Set(access.map((l) => l.reqId)).size).toBe(access.length)
  })
})

describe('the level', () => {
  it('at debug, "incoming request" is written too, and the URL of an emailed link shows [redacted], never the token', async () => {
    const verbose = await createTestApp({ env: { LOG_LEVEL: 'debug', SMTP_URL: site.smtp.url, PUBLIC_URL } })
    try {
      const { email } = await signUp(verbose)
      const mailsBefore = site.smtp.received.length
      await new TestBrowser(verbose.app).post('/password-reset', { email })
      await verbose.app.outbox.idle()
      const link = linkIn(await site.smtp.waitFor((m) => m.to === email && m.subject.includes('Reset your password') && site.smtp.received.indexOf(m) >= mailsBefore), RESET_PREFIX)
      const token = link.slice(RESET_PREFIX.length)

      const { line, ofRequest, written } = await logged(verbose, async () => await new TestBrowser(verbose.app).get(new URL(link).pathname))
      expect(line).toMatchObject({ level: 30, route: '/password-reset/:token', status: 200 })
      const incoming = ofRequest.filter((l) => l.msg === 'incoming request')
      expect(incoming).toHaveLength(1)
      expect(incoming[0]).toMatchObject({ level: 20, req: { method: 'GET', url: '/password-reset/[redacted]' } })
      expect(ofRequest.map((l) => l.msg)).not.toContain('request completed')
      expect(written.join('')).not.toContain(token)
      expect(verbose.logs.join('')).not.toContain(token)
    } finally {
      await verbose.close()
    }
  })

  it('at warn, no access line is written', async () => {
    const quiet = await createTestApp({ env: { LOG_LEVEL: 'warn' } })
    try {
      const before = quiet.logs.length
      const { browser } = await signUp(quiet)
      expect((await browser.get('/')).statusCode).toBe(200)
      expect((await new TestBrowser(quiet.app).get('/no-such-page?token=abc')).statusCode).toBe(404)
      expect((await new TestBrowser(quiet.app).get('/healthz')).statusCode).toBe(200)
      const written = quiet.logs.slice(before)
      expect(accessLines(written)).toEqual([])
      expect(parse(written).filter((l) => l.level < 40)).toEqual([])
    } finally {
      await quiet.close()
    }
  })
})
