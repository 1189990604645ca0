/**
 * Behind a TLS-terminating proxy: nginx (with the shipped docs/deploy/paws-proxy.conf) on loopback with a
 * self-signed certificate, in front of two instances sharing PostgreSQL and Redis. With TRUST_PROXY the
 * app sees https and the client's address; without it, forged X-Forwarded-* headers change nothing.
 * Clients play different addresses by connecting from 127.0.0.2, 127.0.0.3, ... (all loopback on Linux).
 */
import type { Kysely } from 'kysely'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/schema.js'
import { inspect } from './support/db.js'
import { createPostgresDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../helpers/database.js'
import { Browser, parseSetCookie, request, type Response } from './support/client.js'
import { type HeldSocket, holdSocket } from '../helpers/held-socket.js'
import { type AppProc, type NginxProc, checkShippedNginxConfig, startApp, startApps, startNginx } from './support/processes.js'

const STAFF = { email: 'team@pawsrescue.co', password: 'adminpass' }
const PASSWORD = 'a long enough password for proxy tests'

let database: TestDatabase
let redis: TestRedis
let db: Kysely<Database>
let env: Record<string, string>
let a: AppProc
let b: AppProc
let direct: AppProc
let nginx: NginxProc
// A and B run on sockets held as systemd holds them (docs/deploy/paws@.socket), as deployed.
let socketA: HeldSocket
let socketB: HeldSocket

beforeAll(async () => {
  database = await createPostgresDatabase()
  redis = createTestRedis()
  db = inspect(database.url)
  env = { DATABASE_URL: database.url, DATABASE_POOL_SIZE: '3', REDIS_URL: redis.url, REDIS_KEY_PREFIX: redis.keyPrefix, SEED_DEMO_DATA: 'true', SIGNUPS_PER_IP_PER_HOUR: '3' }
  // The two ways to name the proxy: its address, or a hop count.
  socketA = holdSocket()
  socketB = holdSocket()
  ;[a, b] = await startApps([{ name: 'A', env: { ...env, TRUST_PROXY: '127.0.0.1' }, socket: socketA }, { name: 'B', env: { ...env, TRUST_PROXY: '1' }, socket: socketB }])
  direct = await startApp('direct (no TRUST_PROXY)', env)
  nginx = await startNginx([a.port, b.port])
})

afterAll(async () => {
  await Promise.all([nginx, a, b, direct].map(async (p) => await p?.stop()))
  socketA?.close()
  socketB?.close()
  await db?.destroy()
  await database?.drop()
  await redis?.drop()
})

function cookie (res: Response, name: string) {
  const line = res.setCookies.find((l) => l.startsWith(`${name}=`))
  return line === undefined ? undefined : parseSetCookie(line)
}

async function userIp (email: string): Promise<{ session: string | undefined, signup: string | undefined }> {
  const user = await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()
  const session = await db.selectFrom('sessions').select('ip').where('user_id', '=', user.id).executeTakeFirst()
  const event = await db.selectFrom('account_events').select('ip').where('user_id', '=', user.id).where('type', '=', 'signup').executeTakeFirst()
  return { session: session?.ip, signup: event?.ip }
}

describe('behind nginx with TRUST_PROXY', () => {
  it('the shipped configuration (docs/deploy/nginx.conf with paws-proxy.conf) passes nginx -t', async () => {
    expect(await checkShippedNginxConfig(nginx.dir)).toBe('')
  })

  it('both instances answer through the proxy, over https only', async () => {
    const upstreams = new Set<string>()
    for (let i = 0; i < 4; i++) {
      const res = await request('GET', `${nginx.url}/healthz`)
      expect(res.status).toBe(200)
      upstreams.add(String(res.headers['x-test-upstream']))
    }
    expect(upstreams).toEqual(new Set([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]))
  })

  it('the app sees https: a form from the https origin is accepted, the same form claiming http is refused', async () => {
    const browser = new Browser(nginx.url)
    const downgraded = await browser.login(STAFF.email, STAFF.password, { origin: nginx.url.replace('https:', 'http:') })
    expect(downgraded.status).toBe(403)
    const res = await browser.login(STAFF.email, STAFF.password, { origin: nginx.url })
    expect(res.status).toBe(303)
    expect(await browser.signedIn()).toBe(true)
    expect(await browser.signedIn()).toBe(true)
  })

  it('the session cookie is Secure, HttpOnly and carries the __Host- prefix; pages carry HSTS', async () => {
    const browser = new Browser(nginx.url)
    const res = await browser.login(STAFF.email, STAFF.password, { origin: nginx.url })
    const session = cookie(res, '__Host-paws_session')
    expect(session).toBeDefined()
    expect(session!.attributes.has('secure')).toBe(true)
    expect(session!.attributes.has('httponly')).toBe(true)
    expect(session!.attributes.get('path')).toBe('/')
    expect(session!.attributes.get('samesite')?.toLowerCase()).toBe('lax')
    expect(session!.attributes.has('domain')).toBe(false)
    expect(res.setCookies.some((l) => l.startsWith('paws_session='))).toBe(false)
    expect((await browser.get('/')).headers['strict-transport-security']).toContain('max-age=31536000')
  })

  it('redirects stay on https: every Location is relative to the https origin, never http://', async () => {
    const browser = new Browser(nginx.url)
    const locations: string[] = []
    const note = (res: Response) => {
      expect([302, 303]).toContain(res.status)
      locations.push(String(res.headers.location))
    }
    note(await browser.get('/account'))
    note(await browser.post('/login?next=%2Faccount', { email: STAFF.email, password: STAFF.password }, { from: '/login', headers: { origin: nginx.url } }))
    note(await browser.get('/login'))
    note(await browser.get('/signup'))
    note(await browser.post('/logout', {}, { headers: { origin: nginx.url } }))
    note(await new Browser(nginx.url, { localAddress: '127.0.0.4' }).signup('Redirect Check', 'redirect@example.com', PASSWORD, { origin: nginx.url }))
    expect(locations.slice(0, 2)).toEqual(['/login?next=%2Faccount', '/account'])
    for (const location of locations) {
      expect(location).toMatch(/^\/(?!\/)/)
      expect(new URL(location, nginx.url).origin).toBe(nginx.url)
    }
  })

  it('throttling and the records use the forwarded client address, which a client cannot forge through nginx', async () => {
    const from2 = (i: number, headers: Record<string, string> = {}) =>
      new Browser(nginx.url, { localAddress: '127.0.0.2', headers: { origin: nginx.url, ...headers } }).signup(`From Two ${i}`, `two${i}@example.com`, PASSWORD)
    // Three sign-ups an hour from 127.0.0.2, whichever instance nginx picks.
    for (let i = 0; i < 3; i++) expect((await from2(i)).status).toBe(303)
    expect((await from2(3)).status).toBe(429)
    // Claiming another address changes nothing: nginx replaces X-Forwarded-For with the address it saw.
    expect((await from2(4, { 'x-forwarded-for': '10.9.8.7', forwarded: 'for=10.9.8.7' })).status).toBe(429)
    // Another client, at 127.0.0.3, still has its own allowance, although every request reached the
    // instances from nginx at 127.0.0.1.
    const other = new Browser(nginx.url, { localAddress: '127.0.0.3', headers: { origin: nginx.url } })
    expect((await other.signup('From Three', 'three@example.com', PASSWORD)).status).toBe(303)
    expect(await userIp('two0@example.com')).toEqual({ session: '127.0.0.2', signup: '127.0.0.2' })
    expect(await userIp('three@example.com')).toEqual({ session: '127.0.0.3', signup: '127.0.0.3' })
  })

  it('restarting the instances one at a time behind nginx loses no request', async () => {
    const load = { done: false }
    const outcomes: Array<number | string> = []
    // Four clients, each going on until the restarts are over and it has made at least ten requests.
    const client = async () => {
      for (let i = 0; !load.done || i < 10; i++) {
        try {
          if (i % 5 === 4) {
            const browser = new Browser(nginx.url, { headers: { origin: nginx.url } })
            const status = (await browser.login(STAFF.email, STAFF.password)).status
            outcomes.push(status === 303 ? 200 : `login: ${status}`)
          } else {
            outcomes.push((await request('GET', `${nginx.url}/about`)).status)
          }
        } catch (error) {
          outcomes.push(String(error))
        }
      }
    }
    const traffic = Promise.all([client(), client(), client(), client()])
    // The procedure of docs/deploy/README.md: restart one, wait until it answers, then the next. While an
    // instance is down its socket stays open, so nginx's connections wait in it instead of being refused
    // (or, queued at the instant the process closed its own socket, reset: a POST nginx cannot resend).
    for (const [name, instance, trust, socket] of [['B', b, '1', socketB], ['A', a, '127.0.0.1', socketA]] as const) {
      expect(await instance.stop()).toBe(0)
      const restarted = await startApp(`${name} (restarted)`, { ...env, TRUST_PROXY: trust }, { socket })
      if (name === 'A') a = restarted
      else b = restarted
    }
    load.done = true
    await traffic
    expect(outcomes.length).toBeGreaterThanOrEqual(40)
    const failed = outcomes.filter((o) => o !== 200)
    const errorLog = readFileSync(join(nginx.dir, 'logs', 'error.log'), 'utf8')
    expect(failed, failed.length === 0 ? '' : `nginx error log:\n${errorLog.slice(-4000)}`).toEqual([])
    // Not one request needed another instance: none was refused or reset on its way.
    expect(errorLog.split('\n').filter((line) => line.includes('upstream'))).toEqual([])
  })
})

describe('without TRUST_PROXY', () => {
  it('forged X-Forwarded-Proto and X-Forwarded-Host do not change the origin the app expects', async () => {
    const browser = new Browser(direct.url)
    const forged = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', 'x-forwarded-for': '10.0.0.1' }
    expect((await browser.login(STAFF.email, STAFF.password, { ...forged, origin: direct.url.replace('http:', 'https:') })).status).toBe(403)
    expect((await browser.login(STAFF.email, STAFF.password, { ...forged, origin: 'http://evil.example' })).status).toBe(403)
    expect((await browser.login(STAFF.email, STAFF.password, { ...forged, origin: direct.url })).status).toBe(303)
  })

  it('a forged X-Forwarded-For neither escapes the per-address limit nor reaches the records', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) {
      const browser = new Browser(direct.url, { headers: { 'x-forwarded-for': `10.0.0.${i + 10}`, 'x-real-ip': `10.0.0.${i + 10}`, forwarded: `for=10.0.0.${i + 10}` } })
      statuses.push((await browser.signup(`Forger ${i}`, `forger${i}@example.com`, PASSWORD)).status)
    }
    expect(statuses).toEqual([303, 303, 303, 429])
    expect(await userIp('forger0@example.com')).toEqual({ session: '127.0.0.1', signup: '127.0.0.1' })
  })
})
