/**
 * WEB_CONCURRENCY=2 on one machine, on SQLite and without Redis: two workers share the port and the
 * database file, and sessions, throttling and the demo data behave exactly as with one process. The
 * primary replaces a worker that dies, replaces them all one by one on SIGHUP, and stops them on SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import SqliteDatabase from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrations as MIGRATIONS } from '../../src/db/migrate.js'
import { Browser, csrfToken, fieldError, request } from './support/client.js'
import { type AppProc, logLines, spawnApp, startApp } from './support/processes.js'

const STAFF = { email: 'team@pawsrescue.co', password: 'adminpass' }
const PASSWORD = 'a long enough password for cluster tests'
const WAIT_MS = 20_000

let dir: string
let server: AppProc

/** Worker pids, in the order they said they were listening. */
function listeningPids (): number[] {
  return logLines(server.output()).filter((l) => String(l.msg).startsWith('Paws Rescue Center listening on')).map((l) => Number(l.pid))
}

/**
 * The pids whose access lines, after the given log line count, match: the requests a test made (signed-in
 * home pages, refused logins). Access lines are written in batches, within a second: wait with until().
 */
function servingPids (sinceLine: number, made: (line: Record<string, unknown>) => boolean): Set<number> {
  return new Set(logLines(server.output()).slice(sinceLine).filter((l) => l.msg === 'request' && made(l)).map((l) => Number(l.pid)))
}

async function until (what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${server.output().slice(-3000)}`)
    await delay(50)
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'paws-cluster-'))
  server = await startApp('cluster', {
    WEB_CONCURRENCY: '2',
    DATABASE_URL: join(dir, 'paws.db'),
    SEED_DEMO_DATA: 'true',
    LOG_LEVEL: 'info',
    SIGNUPS_PER_IP_PER_HOUR: '1000',
    LOGIN_FAILURES_PER_IP_PER_MINUTE: '1000'
  })
  await until('two workers listening', () => listeningPids().length === 2)
})

afterAll(async () => {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('WEB_CONCURRENCY=2 on SQLite', () => {
  it('both workers start together on the empty database; migrations and demo data happen once', () => {
    const ready = logLines(server.output()).filter((l) => l.msg === 'database ready')
    expect(ready).toHaveLength(2)
    expect(ready.map((l) => l.demoDataAdded).sort()).toEqual([false, true])
    expect(ready.map((l) => (l.migrationsApplied as string[]).length).sort()).toEqual([0, Object.keys(MIGRATIONS).length])
    expect(ready.map((l) => l.throttleStore)).toEqual(['database', 'database'])
    const db = new SqliteDatabase(join(dir, 'paws.db'), { readonly: true })
    try {
      expect(db.prepare('select email, role from users').all()).toEqual([{ email: STAFF.email, role: 'staff' }])
      expect(db.prepare('select count(*) as n from pets').get()).toEqual({ n: 4 })
    } finally {
      db.close()
    }
  })

  it('connections take turns between the workers, and a session is honoured by both', async () => {
    const browser = new Browser(server.url)
    expect((await browser.login(STAFF.email, STAFF.password)).status).toBe(303)
    const since = logLines(server.output()).length
    for (let i = 0; i < 8; i++) expect(await browser.signedIn()).toBe(true)
    const signedInHomePage = (l: Record<string, unknown>) => l.route === '/' && l.status === 200 && l.userId !== undefined
    await until('both workers logging the signed-in home pages', () => servingPids(since, signedInHomePage).size === 2)
    expect(servingPids(since, signedInHomePage)).toEqual(new Set(listeningPids()))
    expect((await browser.logout()).status).toBe(303)
    expect(await browser.signedIn()).toBe(false)
  })

  it('failed logins on either worker count toward one lock', async () => {
    const email = 'cluster-lock@example.com'
    expect((await new Browser(server.url).signup('Cluster Lock', email, PASSWORD)).status).toBe(303)
    const since = logLines(server.output()).length
    for (let i = 0; i < 5; i++) expect((await new Browser(server.url).login(email, 'wrong')).status).toBe(401)
    // Each login is a GET of the form and a POST, on new connections that the workers take in turn.
    const loginPage = (l: Record<string, unknown>) => l.route === '/login'
    await until('both workers logging the login pages', () => servingPids(since, loginPage).size === 2)
    for (let i = 0; i < 2; i++) expect((await new Browser(server.url).login(email, PASSWORD)).status).toBe(429)
  })

  it('a sign-up race across the workers gives one account', async () => {
    const email = 'cluster-race@example.com'
    const browsers = Array.from({ length: 10 }, () => new Browser(server.url))
    const tokens = await Promise.all(browsers.map(async (b) => csrfToken((await b.get('/signup')).body)))
    const results = await Promise.all(browsers.map(async (b, i) =>
      await b.post('/signup', { fullName: `Racer ${i}`, email, password: PASSWORD, confirmPassword: PASSWORD }, { csrf: tokens[i]! })))
    expect(results.filter((r) => r.status === 303)).toHaveLength(1)
    for (const r of results.filter((x) => x.status !== 303)) expect(fieldError(r.body, 'email')).toBe('An account with this email already exists.')
    const db = new SqliteDatabase(join(dir, 'paws.db'), { readonly: true })
    try {
      expect(db.prepare('select count(*) as n from users where email = ?').get(email)).toEqual({ n: 1 })
    } finally {
      db.close()
    }
  })

  it('a worker that dies is replaced, and the site keeps answering', async () => {
    const [victim, survivor] = listeningPids().slice(-2)
    process.kill(victim!, 'SIGKILL')
    await until('a replacement worker', () => listeningPids().length === 3)
    expect(alive(survivor!)).toBe(true)
    for (let i = 0; i < 4; i++) expect((await request('GET', `${server.url}/healthz`)).status).toBe(200)
    expect(server.output()).toContain(`worker ${victim} exited (SIGKILL); starting another`)
  })

  it('SIGHUP replaces every worker one at a time while requests keep being answered', async () => {
    const before = listeningPids().slice(-2)
    const load = { done: false }
    const statuses: Array<number | string> = []
    const traffic = (async () => {
      while (!load.done) {
        try {
          statuses.push((await request('GET', `${server.url}/about`)).status)
        } catch (error) {
          statuses.push(String(error))
        }
      }
    })()
    server.child.kill('SIGHUP')
    await until('the rolling restart', () => server.output().includes('rolling restart done'))
    load.done = true
    await traffic
    const after = listeningPids().slice(-2)
    expect(after.some((pid) => before.includes(pid))).toBe(false)
    for (const pid of before) expect(alive(pid)).toBe(false)
    expect(statuses.length).toBeGreaterThan(10)
    expect(statuses.filter((s) => s !== 200)).toEqual([])
  })

  it('SIGTERM stops the workers and then the primary, cleanly', async () => {
    const workers = listeningPids().slice(-2)
    expect(await server.stop()).toBe(0)
    for (const pid of workers) expect(alive(pid)).toBe(false)
  })
})

describe('refusing to start, clearly', () => {
  it('WEB_CONCURRENCY > 1 with an in-memory database: workers could not share it', async () => {
    const proc = spawnApp('memory cluster', { WEB_CONCURRENCY: '2', DATABASE_URL: ':memory:', PORT: '0' })
    expect(await proc.exited).toBe(1)
    expect(proc.output()).toContain('WEB_CONCURRENCY: workers cannot share an in-memory database')
  })

  it('a Redis that does not answer stops the start with a message naming REDIS_URL', async () => {
    const proc = spawnApp('no redis', { DATABASE_URL: join(dir, 'no-redis.db'), REDIS_URL: 'redis://127.0.0.1:1', PORT: '0' })
    expect(await proc.exited).toBe(1)
    expect(proc.output()).toContain('Redis at redis://127.0.0.1:1 does not answer (REDIS_URL): connect ECONNREFUSED')
  })

  it('workers that keep failing to start make the primary give up (exit 1) instead of forking forever', async () => {
    const proc = spawnApp('failing cluster', { WEB_CONCURRENCY: '2', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing', PORT: '0' })
    expect(await proc.exited).toBe(1)
    expect(proc.output()).toMatch(/4 workers in a row exited before listening; giving up/)
  })
})
