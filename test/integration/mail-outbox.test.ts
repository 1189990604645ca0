/**
 * The outbox loses nothing (issue 16): a message waits in the database until an SMTP server accepts it,
 * through temporary refusals and a server that is down for hours, with growing delays; a permanent
 * refusal or a day of failures gives up with an error line and an account event; two instances sharing
 * the database deliver each message once. The development mailer logs links and keeps the body. The clock
 * is moved by hand; the SMTP server is real. Runs on SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GIVE_UP_AFTER_MS, retryDelayMs } from '../../src/mail/outbox.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { TestBrowser } from '../helpers/browser.js'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js'

const PUBLIC_URL = 'http://localhost:8080'
const CONFIRM = 'Confirm your email address'
const MINUTE_MS = 60_000

let counter = 0
async function signUp (t: TestApp): Promise<string> {
  const email = `outbox${++counter}-${Date.now()}@example.com`
  expect((await new TestBrowser(t.app).signup('Outbox Tester', email, 'outbox password 1')).statusCode).toBe(303)
  return email
}

async function outboxRow (t: TestApp, email: string) {
  return await t.db.kysely.selectFrom('mail_outbox').selectAll().where('recipient', '=', email).executeTakeFirstOrThrow()
}

function appWith (smtpUrl: string, extra: Record<string, string> = {}) {
  return { env: { SMTP_URL: smtpUrl, PUBLIC_URL, SIGNUPS_PER_IP_PER_HOUR: '1000', ...extra } }
}

describe('temporary failures', () => {
  let smtp: TestSmtp
  let t: TestApp
  beforeAll(async () => {
    smtp = await startTestSmtp()
    t = await createTestApp(appWith(smtp.url))
  })
  afterAll(async () => {
    await t.close()
    await smtp.close()
  })

  it('a 4xx refusal is retried after a growing delay, and the message arrives once', async () => {
    smtp.refuseNext(2, 421)
    const email = await signUp(t)
    await t.app.outbox.idle()
    let row = await outboxRow(t, email)
    expect(row).toMatchObject({ attempts: 1, sent_at: null, failed_at: null })
    expect(row.last_error).toContain('Try again later')
    expect(row.next_attempt_at).toBe(row.created_at + retryDelayMs(1))

    t.clock.advance(retryDelayMs(1) - 1)
    expect(await t.app.outbox.deliverDue()).toBe(0)
    t.clock.advance(1)
    expect(await t.app.outbox.deliverDue()).toBe(0)
    row = await outboxRow(t, email)
    expect(row.attempts).toBe(2)
    expect(row.next_attempt_at! - t.clock()).toBe(retryDelayMs(2))
    expect(retryDelayMs(2)).toBeGreaterThan(retryDelayMs(1))

    t.clock.advance(retryDelayMs(2))
    expect(await t.app.outbox.deliverDue()).toBe(1)
    await smtp.waitFor((m) => m.to === email && m.subject.includes(CONFIRM))
    expect(await t.app.outbox.deliverDue()).toBe(0)
    expect(smtp.received.filter((m) => m.to === email)).toHaveLength(1)
    expect(t.logs.some((l) => l.includes('will retry'))).toBe(true)
  })

  it('an SMTP server down for two hours loses nothing: the message goes out when it is back', async () => {
    const down = await startTestSmtp()
    const port = down.port
    const app = await createTestApp(appWith(down.url))
    try {
      await down.close()
      const email = await signUp(app)
      await app.app.outbox.idle()
      for (let elapsed = 0; elapsed < 2 * 60 * MINUTE_MS; elapsed += 10 * MINUTE_MS) {
        app.clock.advance(10 * MINUTE_MS)
        expect(await app.app.outbox.deliverDue()).toBe(0)
      }
      const waiting = await outboxRow(app, email)
      expect(waiting).toMatchObject({ sent_at: null, failed_at: null })
      expect(waiting.attempts).toBeGreaterThan(5)
      expect(waiting.text_body).toContain('/verify-email/')

      const back = await startTestSmtp(port)
      try {
        app.clock.advance(30 * MINUTE_MS)
        expect(await app.app.outbox.deliverDue()).toBe(1)
        await back.waitFor((m) => m.to === email)
        expect(back.received).toHaveLength(1)
        expect(await outboxRow(app, email)).toMatchObject({ text_body: '', html_body: '', next_attempt_at: null })
      } finally {
        await back.close()
      }
    } finally {
      await app.close()
    }
  })
})

describe('giving up', () => {
  it('a permanent refusal (5xx) gives up at once: an error line, an account event, the body emptied', async () => {
    const smtp = await startTestSmtp()
    const t = await createTestApp(appWith(smtp.url))
    try {
      smtp.refuseNext(1, 550)
      const email = await signUp(t)
      await t.app.outbox.idle()
      const row = await outboxRow(t, email)
      expect(row).toMatchObject({ attempts: 1, sent_at: null, next_attempt_at: null, text_body: '', html_body: '' })
      expect(row.failed_at).not.toBeNull()
      const given = t.logs.map((l) => JSON.parse(l) as { level: number, msg: string, mailId?: number }).find((l) => l.msg === 'mail given up: not delivered')
      expect(given).toMatchObject({ level: 50, mailId: row.id })
      const events = await t.db.kysely.selectFrom('account_events').select('type').where('user_id', '=', row.user_id!).execute()
      expect(events.map((e) => e.type)).toContain('mail_failed')
    } finally {
      await t.close()
      await smtp.close()
    }
  })

  it('a day of temporary failures gives up with an error line and an account event', async () => {
    const smtp = await startTestSmtp()
    const t = await createTestApp(appWith(smtp.url))
    try {
      await smtp.close()
      const email = await signUp(t)
      await t.app.outbox.idle()
      let row = await outboxRow(t, email)
      while (row.next_attempt_at !== null && t.clock() - row.created_at <= GIVE_UP_AFTER_MS) {
        t.clock.set(row.next_attempt_at)
        await t.app.outbox.deliverDue()
        row = await outboxRow(t, email)
      }
      expect(row.failed_at).not.toBeNull()
      expect(row.failed_at! - row.created_at).toBeGreaterThanOrEqual(GIVE_UP_AFTER_MS)
      expect(row.failed_at! - row.created_at).toBeLessThan(GIVE_UP_AFTER_MS + 31 * MINUTE_MS)
      expect(t.logs.some((l) => l.includes('"level":50') && l.includes('mail given up'))).toBe(true)
      const events = await t.db.kysely.selectFrom('account_events').select('type').where('user_id', '=', row.user_id!).execute()
      expect(events.map((e) => e.type)).toContain('mail_failed')
    } finally {
      await t.close()
    }
  })
})

describe('two instances sharing the database', () => {
  it('deliver each message once, whichever instance wrote it and however their passes overlap', async () => {
    const smtp = await startTestSmtp()
    const a = await createTestApp(appWith(smtp.url))
    const databaseUrl = a.config.database.kind === 'sqlite' ? a.config.database.file : a.config.database.url
    const b = await createTestApp({ ...appWith(smtp.url), databaseUrl })
    try {
      const emails: string[] = []
      for (let i = 0; i < 12; i++) emails.push(await signUp(i % 2 === 0 ? a : b))
      await Promise.all([a.app.outbox.idle(), b.app.outbox.idle(), a.app.outbox.deliverDue(), b.app.outbox.deliverDue()])
      for (const email of emails) await smtp.waitFor((m) => m.to === email)
      await Promise.all([a.app.outbox.deliverDue(), b.app.outbox.deliverDue()])
      const counts = new Map<string, number>()
      for (const m of smtp.received) counts.set(m.to, (counts.get(m.to) ?? 0) + 1)
      expect(emails.map((e) => counts.get(e))).toEqual(emails.map(() => 1))
    } finally {
      await b.close()
      await a.close()
      await smtp.close()
    }
  })
})

describe('without SMTP_URL (development)', () => {
  it('each message is written to the log with its recipient, subject and links, and kept', async () => {
    const t = await createTestApp({ env: { PUBLIC_URL, SIGNUPS_PER_IP_PER_HOUR: '1000' } })
    try {
      const email = await signUp(t)
      await t.app.outbox.idle()
      const line = t.logs.map((l) => JSON.parse(l) as { msg: string, to?: string, subject?: string, links?: string[] }).find((l) => l.to === email)
      expect(line?.subject).toContain(CONFIRM)
      expect(line?.links?.[0]).toMatch(new RegExp(`^${PUBLIC_URL}/verify-email/[A-Za-z0-9_-]{43}$`))
      const row = await outboxRow(t, email)
      expect(row.sent_at).not.toBeNull()
      expect(row.text_body).toContain(line!.links![0])
    } finally {
      await t.close()
    }
  })
})
