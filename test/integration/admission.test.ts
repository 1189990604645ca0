/** Password hashing is rationed: past the running hashes and the short queue, a login gets 503 with Retry-After. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, TestBrowser } from '../helpers/browser.js'

let t: TestApp
beforeAll(async () => { t = await createTestApp({ env: { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '1' } }) })
afterAll(async () => { await t.close() })

describe('admission control for password hashing', () => {
  it('a burst beyond one running hash and one waiting gets 503 with Retry-After, and the rest log in', async () => {
    const browsers = Array.from({ length: 16 }, () => new TestBrowser(t.app))
    const tokens = await Promise.all(browsers.map(async (b) => await b.csrfFrom('/login')))
    const results = await Promise.all(browsers.map(async (b, i) =>
      await b.post('/login', { email: DEMO_STAFF.email, password: DEMO_STAFF.password }, { csrf: tokens[i]! })))
    const statuses = results.map((r) => r.statusCode).sort()
    expect(statuses.filter((s) => s === 303).length).toBeGreaterThanOrEqual(2)
    expect(statuses.every((s) => s === 303 || s === 503)).toBe(true)
    const busy = results.filter((r) => r.statusCode === 503)
    expect(busy.length).toBeGreaterThan(0)
    for (const r of busy) {
      expect(r.headers['retry-after']).toBe('2')
      expect(r.body).toContain('We are handling a lot of log-ins right now. Please try again in a few seconds.')
      expect(r.headers['set-cookie']?.toString() ?? '').not.toContain('paws_session=')
    }
    // Once the burst has passed, logging in works again.
    const later = new TestBrowser(t.app)
    expect((await later.login(DEMO_STAFF.email, DEMO_STAFF.password)).statusCode).toBe(303)
  })
})
