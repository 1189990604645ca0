/** The foundation: pages, pets, 404 / 500 pages, health, demo data once, security headers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { TestBrowser } from '../helpers/browser.js'

let t: TestApp
beforeAll(async () => { t = await createTestApp() })
afterAll(async () => { await t.close() })

describe('public pages', () => {
  it('home lists the four demo pets with picture, name, age and bio, each linking to its page', async () => {
    const res = await t.app.inject('/')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    for (const [name, age] of [['Nelly', '5 weeks'], ['Yuki', '8 months'], ['Basker', '1 year'], ['Mr. Furrkins', '5 years']]) {
      expect(res.body).toContain(`<h2>${name}</h2>`)
      expect(res.body).toContain(`<p class="pet-age">${age}</p>`)
    }
    expect(res.body).toContain('I love barking. But, I love my friends more.')
    expect(res.body).toMatch(/href="\/pets\/\d+"/)
    expect(res.body).toContain('src="/static/images/pets/nelly.svg"')
  })

  it('the navbar shows Home, About, Sign up and Log in to an anonymous visitor', async () => {
    const res = await t.app.inject('/about')
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('<h1>About Paws Rescue Center</h1>')
    for (const link of ['href="/"', 'href="/about"', 'href="/signup"', 'href="/login"']) expect(res.body).toContain(link)
    expect(res.body).not.toContain('Log out')
  })

  it('a pet page shows its picture, name, age and bio', async () => {
    const home = await t.app.inject('/')
    const id = /href="\/pets\/(\d+)"[^>]*><img[^>]*alt="Yuki/.exec(home.body)?.[1]
    const res = await t.app.inject(`/pets/${id}`)
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('<h1>Yuki</h1>')
    expect(res.body).toContain('I am a handsome gentle-cat. I like to dress up in bow ties.')
    expect(res.body).toContain('src="/static/images/pets/yuki.svg"')
  })

  it.each(['/nowhere', '/pets/999999', '/pets/abc', '/pets/-1', '/pets/1e3', `/pets/${'9'.repeat(40)}`, '/static/nope.css'])(
    'unknown route or id %s gives the HTML 404 page, never a 500', async (url) => {
      const res = await t.app.inject(url)
      expect(res.statusCode).toBe(404)
      expect(res.headers['content-type']).toContain('text/html')
      expect(res.body).toContain('Page not found')
    })

  it('pictures and the stylesheet are served with cache headers', async () => {
    for (const url of ['/static/images/pets/basker.svg', '/static/css/site.css']) {
      const res = await t.app.inject(url)
      expect(res.statusCode).toBe(200)
      expect(res.headers['cache-control']).toMatch(/max-age=86400/)
    }
  })

  it('every page carries the security headers', async () => {
    const res = await t.app.inject('/')
    const csp = String(res.headers['content-security-policy'])
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("form-action 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin')
  })
})

describe('health', () => {
  it('GET /healthz answers 200 {"status":"ok"} while the database answers', async () => {
    const res = await t.app.inject('/healthz')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ok' })
  })
})

describe('demo data', () => {
  it('is added once: a restart on the same database adds nothing more', async () => {
    const url = t.config.database.kind === 'sqlite' ? t.config.database.file : t.config.database.url
    const again = await createTestApp({ databaseUrl: url })
    try {
      const pets = await again.db.kysely.selectFrom('pets').select('name').execute()
      expect(pets.map((p) => p.name)).toEqual(['Nelly', 'Yuki', 'Basker', 'Mr. Furrkins'])
      const users = await again.db.kysely.selectFrom('users').select(['email', 'role', 'full_name', 'password_hash']).execute()
      expect(users).toHaveLength(1)
      expect(users[0]).toMatchObject({ email: 'team@pawsrescue.co', role: 'staff', full_name: 'Pet Rescue Team' })
      expect(users[0]!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
      expect(again.logs.join('')).toContain('"demoDataAdded":false')
    } finally {
      await again.close()
    }
  })

  it('the startup log names the database and says demo data was added, without any password', () => {
    const ready = t.logs.find((l) => l.includes('database ready'))
    expect(ready).toContain('"demoDataAdded":true')
    expect(ready).toMatch(/"database":"(sqlite:|postgres)/)
    expect(t.logs.join('\n')).not.toContain('adminpass')
  })
})

describe('anonymous browsing', () => {
  it('a visitor can browse without any cookie being set', async () => {
    const browser = new TestBrowser(t.app)
    await browser.get('/')
    await browser.get('/about')
    expect(browser.cookies.size).toBe(0)
  })
})
