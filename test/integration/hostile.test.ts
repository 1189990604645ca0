/** Hostile input: oversized, malformed and strangely typed bodies get a clear 4xx page, never a 5xx. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, TestBrowser } from '../helpers/browser.js'

let t: TestApp
beforeAll(async () => { t = await createTestApp({ env: { SIGNUPS_PER_IP_PER_HOUR: '1000' } }) })
afterAll(async () => { await t.close() })

async function userCount (): Promise<number> {
  return (await t.db.kysely.selectFrom('users').select('id').execute()).length
}

async function rawPost (browser: TestBrowser, url: string, payload: string | Buffer, contentType?: string) {
  return await browser.request({
    method: 'POST',
    url,
    payload,
    headers: contentType === undefined ? {} : { 'content-type': contentType }
  })
}

describe('bodies', () => {
  it('a body over 64 KiB gets 413 and an HTML page', async () => {
    const browser = new TestBrowser(t.app)
    const token = await browser.csrfFrom('/signup')
    const res = await rawPost(browser, '/signup', `_csrf=${token}&fullName=${'a'.repeat(70 * 1024)}`, 'application/x-www-form-urlencoded')
    expect(res.statusCode).toBe(413)
    expect(res.headers['content-type']).toContain('text/html')
    expect(res.body).toContain('Forms here accept at most 64 KiB.')
  })

  it.each([
    ['application/json', '{"email":"a@b.c"}'],
    ['text/plain', 'email=a@b.c'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n--x--'],
    ['application/xml', '<a/>']
  ])('an unknown content type (%s) gets 415 and an HTML page', async (type, body) => {
    const browser = new TestBrowser(t.app)
    const res = await rawPost(browser, '/login', body, type)
    expect(res.statusCode).toBe(415)
    expect(res.headers['content-type']).toContain('text/html')
    expect(res.body).toContain('The form was sent in a format this site does not accept.')
  })

  it('a body without a content type is refused with a 4xx page', async () => {
    const browser = new TestBrowser(t.app)
    const res = await rawPost(browser, '/login', 'email=a')
    expect(res.statusCode).toBeGreaterThanOrEqual(400)
    expect(res.statusCode).toBeLessThan(500)
  })

  it.each([
    '%', '%E0%A4%A', 'a=%ZZ&b=%', '&&&===&', '\u0000\u0001', Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3]).toString('latin1'), 'email[]=x&email[]=y', '__proto__[admin]=1&constructor[prototype][x]=1'
  ])('a malformed body (%j) gets the 400 page, never a 5xx, and changes nothing', async (payload) => {
    const before = await userCount()
    const browser = new TestBrowser(t.app)
    const token = await browser.csrfFrom('/signup')
    const res = await rawPost(browser, '/signup', `_csrf=${token}&${payload}`, 'application/x-www-form-urlencoded')
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toContain('text/html')
    expect(await userCount()).toBe(before)
  })

  it('a field sent twice gets a 400 page and changes nothing', async () => {
    const before = await userCount()
    const browser = new TestBrowser(t.app)
    const res = await browser.post('/signup', { fullName: 'Twice', email: ['one@example.com', 'two@example.com'], password: 'twice the fun 123', confirmPassword: 'twice the fun 123' })
    expect(res.statusCode).toBe(400)
    expect(res.body).toContain('Email must be a single text value.')
    expect(await userCount()).toBe(before)
    const login = await browser.post('/login', { email: DEMO_STAFF.email, password: [DEMO_STAFF.password, DEMO_STAFF.password] })
    expect(login.statusCode).toBe(400)
    expect(login.headers['set-cookie']?.toString() ?? '').not.toContain('paws_session=')
  })

  it('a token sent twice is refused', async () => {
    const browser = new TestBrowser(t.app)
    const token = await browser.csrfFrom('/login')
    const res = await rawPost(browser, '/login', `_csrf=${token}&_csrf=${token}&email=a&password=b`, 'application/x-www-form-urlencoded')
    expect(res.statusCode).toBe(403)
  })

  it('methods a route does not have are a 4xx, not a 5xx', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH'] as const) {
      const res = await t.app.inject({ method, url: '/login' })
      expect(res.statusCode).toBeGreaterThanOrEqual(400)
      expect(res.statusCode).toBeLessThan(500)
    }
  })
})

describe('escaping', () => {
  it('a name like <script>alert(1)</script> is shown as text on every page that shows it', async () => {
    const name = '<script>alert(1)</script>'
    const browser = new TestBrowser(t.app)
    expect((await browser.signup(name, 'xss@example.com', 'escaping matters 42')).statusCode).toBe(303)
    for (const url of ['/', '/about', '/account', '/logout', '/pets/1', '/nowhere']) {
      const page = (await browser.get(url)).body
      expect(page, url).not.toContain(name)
      expect(page, url).toContain('&lt;script>alert(1)&lt;/script>')
    }
  })

  it('staff-entered pet text is escaped on the home page and the pet page', async () => {
    const staff = new TestBrowser(t.app)
    await staff.login(DEMO_STAFF.email, DEMO_STAFF.password)
    const bio = '<img src=x onerror=alert(1)> "quoted" & </p>'
    const res = await staff.post('/pets/new', { name: 'Sly', age: '2 years', bio })
    expect(res.statusCode).toBe(303)
    for (const url of ['/', String(res.headers.location)]) {
      const page = (await staff.get(url)).body
      expect(page).not.toContain('<img src=x')
      expect(page).toContain('&lt;img src=x onerror=alert(1)> &#34;quoted&#34; &amp; &lt;/p>')
    }
  })

  it('a failed form echoes hostile values escaped', async () => {
    const browser = new TestBrowser(t.app)
    const res = await browser.signup('"><svg onload=alert(1)>', 'not an email"><script>', 'x')
    expect(res.statusCode).toBe(400)
    // The quote is escaped, so the value cannot leave its attribute; `<` inside an attribute is inert.
    expect(res.body).not.toContain('"><svg')
    expect(res.body).not.toContain('"><script>')
    expect(res.body).toContain('value="&#34;><svg onload=alert(1)>"')
  })
})

describe('headers', () => {
  it('pages with account data are never cached, logout clears site cookies', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    for (const url of ['/', '/account']) expect((await browser.get(url)).headers['cache-control']).toBe('no-store')
    expect((await browser.logout()).headers['clear-site-data']).toBe('"cookies"')
  })
})

describe('logs', () => {
  it('never contain passwords, session tokens, form tokens or Cookie / Set-Cookie headers, even at trace level', async () => {
    const verbose = await createTestApp({ env: { LOG_LEVEL: 'trace' } })
    try {
      const browser = new TestBrowser(verbose.app)
      const password = 'Trace-Level-Secret-91'
      await browser.signup('Trace', 'trace@example.com', password)
      const csrf = (await browser.get('/account')).body.match(/name="_csrf" value="([^"]+)"/)![1]!
      await browser.post('/account/password', { currentPassword: password, newPassword: 'Another-Trace-Secret-92', confirmPassword: 'Another-Trace-Secret-92' }, { csrf })
      await browser.logout()
      await browser.login('trace@example.com', 'Wrong-Trace-Secret-93')
      const session = browser.cookies.get('paws_session')?.value
      const anonymous = browser.cookies.get('paws_csrf')!.value
      const logs = verbose.logs.join('\n')
      expect(logs.length).toBeGreaterThan(1000)
      for (const secret of [password, 'Another-Trace-Secret-92', 'Wrong-Trace-Secret-93', csrf, anonymous, ...(session === undefined ? [] : [session])]) {
        expect(logs).not.toContain(secret)
      }
      expect(logs.toLowerCase()).not.toContain('set-cookie')
      expect(logs).not.toMatch(/"cookie"/i)
    } finally {
      await verbose.close()
    }
  })
})
