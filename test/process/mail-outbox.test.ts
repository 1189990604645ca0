/**
 * The outbox across a crash (issue 16), with the built server as `npm start` runs it: a message committed
 * with a sign-up, whose delivery was under way when the process was killed (SIGKILL, so no shutdown code
 * ran), is delivered by the next start on the same database, once, and its link works.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { linkIn, startTestSmtp, type TestSmtp } from '../helpers/smtp.js'
import { Browser, request } from '../scale/support/client.js'
import { type AppProc, startApp } from '../scale/support/processes.js'

const CONFIRM = 'Confirm your email address'
const PASSWORD = 'a long enough password for crash tests'
/**
 * With SMTP_TIMEOUT_SECONDS=1 the killed process's claim on the message lasts 10 s; the next start's
 * sender takes it over at its first poll (every 5 s) after that.
 */
const DELIVERY_WAIT_MS = 30_000

let dir: string
const smtpServers: TestSmtp[] = []
const apps: AppProc[] = []
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'paws-outbox-')) })
afterAll(async () => {
  for (const app of apps) await app.stop()
  for (const smtp of smtpServers) await smtp.close()
  rmSync(dir, { recursive: true, force: true })
})

async function smtpServer (): Promise<TestSmtp> {
  const smtp = await startTestSmtp()
  smtpServers.push(smtp)
  return smtp
}

async function start (name: string, env: Record<string, string>, port?: number): Promise<AppProc> {
  const app = await startApp(name, env, port === undefined ? {} : { port })
  apps.push(app)
  return app
}

async function signUp (app: AppProc, email: string): Promise<void> {
  const res = await new Browser(app.url).signup('Crash Survivor', email, PASSWORD)
  expect(res.status).toBe(303)
}

describe('the mail outbox across a crash', () => {
  it('a message committed before a SIGKILL is delivered after the restart, once, and its link works', async () => {
    // An SMTP server that takes the connection and never greets: the delivery waits, claimed, when the kill comes.
    const hanging = await smtpServer()
    hanging.hold(true)
    const databaseUrl = join(dir, 'paws.db')
    const env = { DATABASE_URL: databaseUrl, SMTP_TIMEOUT_SECONDS: '1', SIGNUPS_PER_IP_PER_HOUR: '100', LOG_LEVEL: 'info' }
    const first = await start('first', { ...env, SMTP_URL: hanging.url })

    const email = 'crash@example.com'
    await signUp(first, email)
    await hanging.waitForConnections(1, DELIVERY_WAIT_MS)
    first.child.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    expect(hanging.received).toEqual([])
    await hanging.close()

    const accepting = await smtpServer()
    // The same port, so the link written into the message before the crash (PUBLIC_URL) reaches the new process.
    const second = await start('restarted', { ...env, SMTP_URL: accepting.url }, first.port)
    const mail = await accepting.waitFor((m) => m.to === email && m.subject.includes(CONFIRM), DELIVERY_WAIT_MS)

    // Another message, committed after the restart, is delivered by a later pass: by then a second delivery
    // of the first one would have happened too.
    const later = 'after-the-crash@example.com'
    await signUp(second, later)
    await accepting.waitFor((m) => m.to === later, DELIVERY_WAIT_MS)
    expect(accepting.received.filter((m) => m.to === email)).toHaveLength(1)

    const db = new SqliteDatabase(databaseUrl, { readonly: true })
    try {
      const row = db.prepare('select attempts, sent_at, failed_at from mail_outbox where recipient = ?').get(email) as { attempts: number, sent_at: number | null, failed_at: number | null }
      // Claimed once by the killed process, once more by the restarted one.
      expect(row).toMatchObject({ attempts: 2, failed_at: null })
      expect(row.sent_at).not.toBeNull()
    } finally {
      db.close()
    }

    const link = linkIn(mail, `${second.url}/verify-email/`)
    const page = await request('GET', link)
    expect(page.status).toBe(200)
    expect(page.body).toMatch(/<button[^>]*>Confirm<\/button>/)
    expect(page.body).toContain(email)
  }, 120_000)
})
