/**
 * What operators see: with metrics on, requests, logins, password hashes and sessions are counted as they
 * happen and the scrape is valid Prometheus text; labels carry route patterns, never URLs. The public app
 * never serves /metrics, with metrics on or off. Runs on each database (TEST_DB).
 */
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPrometheusMetrics, type PrometheusMetrics } from '../../src/metrics/prometheus.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, TestBrowser } from '../helpers/browser.js'
import { type Exposition, parseExposition, sampleKey } from '../helpers/prometheus.js'

let t: TestApp
let metrics: PrometheusMetrics
beforeAll(async () => {
  metrics = createPrometheusMetrics()
  t = await createTestApp({ metrics, env: { LOGIN_MAX_FAILURES: '2', PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '1' } })
})
afterAll(async () => { await t.close() })

async function scrape (): Promise<Exposition> {
  return parseExposition(await metrics.registry.metrics())
}

function value (e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = e.samples.get(sampleKey(name, labels))
  if (found === undefined) throw new Error(`no sample ${sampleKey(name, labels)}`)
  return found
}

const logins = (e: Exposition, outcome: string) => value(e, 'paws_logins_total', { outcome })
const requests = (e: Exposition, method: string, route: string, status: number) =>
  e.samples.get(sampleKey('http_request_duration_seconds_count', { method, route, status_code: String(status) })) ?? 0

describe('metrics', () => {
  it("a scrape parses, with Node's default metrics and every login outcome at 0 from the start", async () => {
    const e = await scrape()
    expect(e.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge')
    expect(e.types.get('nodejs_heap_size_used_bytes')).toBe('gauge')
    expect(e.types.get('nodejs_gc_duration_seconds')).toBe('histogram')
    expect(e.types.get('http_request_duration_seconds')).toBe('histogram')
    for (const outcome of ['success', 'wrong_credentials', 'throttled', 'second_factor']) expect(logins(e, outcome)).toBe(0)
    expect(value(e, 'paws_password_hash_queue_depth')).toBe(0)
    expect(value(e, 'paws_password_hash_refused_total')).toBe(0)
  })

  it('requests are counted by route pattern and status; a URL with a token or an unknown path never becomes a label', async () => {
    const before = await scrape()
    const browser = new TestBrowser(t.app)
    await browser.get('/login?next=/account/secret-token-abc')
    await browser.get('/no-such-page-xyz')
    const pet = await t.db.kysely.selectFrom('pets').select('id').executeTakeFirstOrThrow()
    await browser.get(`/pets/${pet.id}`)
    const text = await metrics.registry.metrics()
    const after = parseExposition(text)
    expect(requests(after, 'GET', '/login', 200) - requests(before, 'GET', '/login', 200)).toBe(1)
    expect(requests(after, 'GET', 'unmatched', 404) - requests(before, 'GET', 'unmatched', 404)).toBe(1)
    expect(requests(after, 'GET', '/pets/:id', 200) - requests(before, 'GET', '/pets/:id', 200)).toBe(1)
    expect(text).not.toContain('secret-token-abc')
    expect(text).not.toContain('no-such-page-xyz')
  })

  it('logins are counted by outcome, with the sessions they start and end and the hashes they cost', async () => {
    const before = await scrape()
    const browser = new TestBrowser(t.app)
    expect((await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)).statusCode).toBe(303)
    expect((await browser.logout()).statusCode).toBe(303)
    for (let i = 0; i < 2; i++) expect((await browser.login('nobody@example.com', 'wrong password')).statusCode).toBe(401)
    expect((await browser.login('nobody@example.com', 'wrong password')).statusCode).toBe(429)
    const after = await scrape()
    const moved = (name: string, labels?: Record<string, string>) => value(after, name, labels) - value(before, name, labels)
    expect(logins(after, 'success') - logins(before, 'success')).toBe(1)
    expect(logins(after, 'wrong_credentials') - logins(before, 'wrong_credentials')).toBe(2)
    expect(logins(after, 'throttled') - logins(before, 'throttled')).toBe(1)
    expect(logins(after, 'second_factor')).toBe(0)
    expect(moved('paws_sessions_created_total')).toBe(1)
    expect(moved('paws_sessions_ended_total')).toBe(1)
    // One verification for the login, one dummy hash and two verifications for the unknown email (the dummy
    // hash is made once per process, so it may already exist); the throttled attempt costs none.
    expect(moved('paws_password_hash_duration_seconds_count')).toBeGreaterThanOrEqual(3)
    expect(moved('paws_password_hash_duration_seconds_sum')).toBeGreaterThan(0)
  })

  it('a login refused because the hashing queue is full counts as a 503 of the hasher', async () => {
    const before = await scrape()
    const browsers = Array.from({ length: 8 }, () => new TestBrowser(t.app))
    const tokens = await Promise.all(browsers.map(async (b) => await b.csrfFrom('/login')))
    const results = await Promise.all(browsers.map(async (b, i) =>
      await b.post('/login', { email: DEMO_STAFF.email, password: DEMO_STAFF.password }, { csrf: tokens[i]! })))
    const busy = results.filter((r) => r.statusCode === 503).length
    expect(busy).toBeGreaterThan(0)
    const after = await scrape()
    expect(value(after, 'paws_password_hash_refused_total') - value(before, 'paws_password_hash_refused_total')).toBe(busy)
    expect(requests(after, 'POST', '/login', 503) - requests(before, 'POST', '/login', 503)).toBe(busy)
  })

  it('the public app never serves /metrics, with metrics on', async () => {
    expect((await t.app.inject('/metrics')).statusCode).toBe(404)
  })
})

/** Fastify keeps an instance's hooks under a private symbol; counting them shows what a request runs. */
function onResponseHooks (app: FastifyInstance): number {
  const symbol = Object.getOwnPropertySymbols(app).find((s) => s.description === 'fastify.hooks')
  if (symbol === undefined) throw new Error('Fastify keeps its hooks elsewhere now: update this test')
  return ((app as unknown as Record<symbol, { onResponse: unknown[] }>)[symbol]!).onResponse.length
}

describe('without metrics', () => {
  it('the public app has no /metrics either, and adds no response hook', async () => {
    const plain = await createTestApp()
    try {
      expect((await plain.app.inject('/metrics')).statusCode).toBe(404)
      expect(plain.app.hasRoute({ method: 'GET', url: '/metrics' })).toBe(false)
      expect(onResponseHooks(plain.app)).toBe(onResponseHooks(t.app) - 1)
    } finally {
      await plain.close()
    }
  })
})

describe('metrics of the mail outbox and the second factor', () => {
  it('the outbox gauges follow a message from waiting to sent; a right password with 2FA counts as second_factor', async () => {
    const m = createPrometheusMetrics()
    const app = await createTestApp({ metrics: m, env: { SIGNUPS_PER_IP_PER_HOUR: '1000' } })
    try {
      const read = async () => parseExposition(await m.registry.metrics())
      let e = await read()
      const sentBefore = value(e, 'paws_mail_outbox_sent')
      const browser = new TestBrowser(app.app)
      await browser.signup('Metrics Mail', 'metrics-mail@example.com', 'metrics mail password 1')
      await app.app.outbox.idle()
      e = await read()
      expect(value(e, 'paws_mail_outbox_sent') - sentBefore).toBe(1)
      expect(value(e, 'paws_mail_outbox_waiting')).toBe(0)
      expect(value(e, 'paws_mail_outbox_failed')).toBe(0)
      expect(value(e, 'paws_mail_outbox_oldest_waiting_seconds')).toBe(0)
      expect(e.types.get('paws_mail_outbox_waiting')).toBe('gauge')

      // A message that waits (enqueued straight into the table, as a rolled-forward clock would leave it).
      await app.db.kysely.insertInto('mail_outbox').values({
        user_id: null,
        kind: 'test',
        recipient: 'waiting@example.com',
        subject: 'Waiting',
        text_body: '',
        html_body: '',
        created_at: app.clock() - 90_000,
        attempts: 1,
        next_attempt_at: app.clock() + 3_600_000
      }).execute()
      e = await read()
      expect(value(e, 'paws_mail_outbox_waiting')).toBe(1)
      expect(value(e, 'paws_mail_outbox_oldest_waiting_seconds')).toBe(90)

      const secondBefore = logins(e, 'second_factor')
      await app.db.kysely.updateTable('users').set({ two_factor_enabled_at: app.clock(), two_factor_secret: 'v1.x.y' }).where('email', '=', 'metrics-mail@example.com').execute()
      const res = await new TestBrowser(app.app).login('metrics-mail@example.com', 'metrics mail password 1')
      expect(res.headers.location).toBe('/login/two-factor')
      expect(logins(await read(), 'second_factor') - secondBefore).toBe(1)
    } finally {
      await app.close()
    }
  })
})
