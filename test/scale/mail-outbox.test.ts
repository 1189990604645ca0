/**
 * One outbox, several senders (issue 16): processes sharing a database each run a sender, and every
 * message still goes out once. Two instances on one PostgreSQL database (claims skip rows another sender
 * has locked), and two workers (WEB_CONCURRENCY=2) on one SQLite file, all delivering to one real SMTP
 * server while sign-ups arrive on every process at once.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/schema.js'
import { createPostgresDatabase, type TestDatabase } from '../helpers/database.js'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js'
import { Browser } from './support/client.js'
import { inspect } from './support/db.js'
import { type AppProc, startApp, startApps } from './support/processes.js'

const ACCOUNTS = 20
const PASSWORD = 'a long enough password for outbox tests'
const CONFIRM = 'Confirm your email address'
/** Generous: twenty password hashes and deliveries on a busy two-core machine. */
const DELIVERY_WAIT_MS = 60_000
const TEST_TIMEOUT_MS = 180_000
const ENV = { SIGNUPS_PER_IP_PER_HOUR: '100000', LOG_LEVEL: 'warn' }

async function signUp (url: string, email: string): Promise<number> {
  return (await new Browser(url).signup('Mail Once', email, PASSWORD)).status
}

/** How many confirmation emails each address received, in the order given. */
function deliveries (smtp: TestSmtp, emails: string[]): number[] {
  return emails.map((email) => smtp.received.filter((m) => m.to === email && m.subject.includes(CONFIRM)).length)
}

/**
 * Signs up ACCOUNTS accounts at once, taking turns among the URLs, and checks that each address got one
 * confirmation email; then one more sign-up per URL, whose emails go out in later delivery passes, after
 * which there is still no second copy of any. Every row was claimed once and is marked sent.
 */
async function expectEachMessageSentOnce (urls: string[], smtp: TestSmtp, db: Kysely<Database>, label: string): Promise<void> {
  const emails = Array.from({ length: ACCOUNTS }, (_, i) => `${label}-${i}@example.com`)
  const statuses = await Promise.all(emails.map(async (email, i) => await signUp(urls[i % urls.length]!, email)))
  expect(statuses).toEqual(emails.map(() => 303))
  for (const email of emails) await smtp.waitFor((m) => m.to === email, DELIVERY_WAIT_MS)
  expect(deliveries(smtp, emails)).toEqual(emails.map(() => 1))

  const later = urls.map((_, i) => `${label}-later-${i}@example.com`)
  for (const [i, email] of later.entries()) expect(await signUp(urls[i]!, email)).toBe(303)
  for (const email of later) await smtp.waitFor((m) => m.to === email, DELIVERY_WAIT_MS)
  const all = [...emails, ...later]
  expect(deliveries(smtp, all)).toEqual(all.map(() => 1))
  expect(smtp.received.filter((m) => all.includes(m.to))).toHaveLength(all.length)

  const rows = await db.selectFrom('mail_outbox').select(['recipient', 'attempts', 'sent_at', 'failed_at'])
    .where('recipient', 'in', all).orderBy('id').execute()
  expect(rows.map((r) => r.recipient).sort()).toEqual([...all].sort())
  for (const row of rows) {
    expect(row, row.recipient).toMatchObject({ attempts: 1, failed_at: null })
    expect(row.sent_at, row.recipient).not.toBeNull()
  }
}

describe('two instances sharing PostgreSQL', () => {
  let database: TestDatabase
  let db: Kysely<Database>
  let smtp: TestSmtp
  let a: AppProc
  let b: AppProc

  beforeAll(async () => {
    database = await createPostgresDatabase()
    db = inspect(database.url)
    smtp = await startTestSmtp()
    const env = { ...ENV, DATABASE_URL: database.url, DATABASE_POOL_SIZE: '5', SMTP_URL: smtp.url }
    ;[a, b] = await startApps([{ name: 'A', env }, { name: 'B', env }])
  })

  afterAll(async () => {
    await Promise.all([a, b].map(async (p) => await p?.stop()))
    await db?.destroy()
    await database?.drop()
    await smtp?.close()
  })

  it('send each message once, whichever instance wrote it', async () => {
    await expectEachMessageSentOnce([a.url, b.url], smtp, db, 'pg')
  }, TEST_TIMEOUT_MS)
})

describe('two workers (WEB_CONCURRENCY=2) sharing one SQLite file', () => {
  let dir: string
  let db: Kysely<Database>
  let smtp: TestSmtp
  let server: AppProc

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paws-outbox-cluster-'))
    const file = join(dir, 'paws.db')
    smtp = await startTestSmtp()
    server = await startApp('cluster', { ...ENV, WEB_CONCURRENCY: '2', DATABASE_URL: file, SMTP_URL: smtp.url })
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SqliteDatabase(file) }) })
  })

  afterAll(async () => {
    await server?.stop()
    await db?.destroy()
    await smtp?.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('send each message once, whichever worker wrote it', async () => {
    // One port: each sign-up opens a new connection, and the primary hands connections to the workers in turn.
    await expectEachMessageSentOnce([server.url, server.url], smtp, db, 'cluster')
  }, TEST_TIMEOUT_MS)
})
