/** Operator commands, run in process against a real database, as `npm run cli -- …` would run them. */
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/main.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, TestBrowser } from '../helpers/browser.js'

let t: TestApp
let env: Record<string, string>
beforeAll(async () => {
  t = await createTestApp()
  env = { DATABASE_URL: t.config.database.kind === 'sqlite' ? t.config.database.file : t.config.database.url, SECRET_KEY: t.config.secretKey! }
})
afterAll(async () => { await t.close() })

async function cli (args: string[], stdinText = ''): Promise<{ code: number, out: string, err: string }> {
  const stdin = new PassThrough()
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (c) => { out += String(c) })
  stderr.on('data', (c) => { err += String(c) })
  stdin.end(stdinText)
  const code = await runCli(args, { stdin, stdout, stderr }, env)
  return { code, out, err }
}

async function role (email: string): Promise<string | undefined> {
  return (await t.db.kysely.selectFrom('users').select('role').where('email', '=', email).executeTakeFirst())?.role
}

describe('cli', () => {
  it('create-staff reads the password from stdin and creates a staff account that can log in', async () => {
    const res = await cli(['create-staff', '--email', 'Vet@PawsRescue.co', '--name', 'Dr. Vet'], 'a strong staff password\n')
    expect(res).toMatchObject({ code: 0, err: '' })
    expect(res.out).toContain('Created staff account vet@pawsrescue.co (Dr. Vet).')
    expect(res.out).not.toContain('a strong staff password')
    expect(await role('vet@pawsrescue.co')).toBe('staff')
    const confirmed = await t.db.kysely.selectFrom('users').select('email_verified_at').where('email', '=', 'vet@pawsrescue.co').executeTakeFirstOrThrow()
    expect(confirmed.email_verified_at).not.toBeNull()
    const browser = new TestBrowser(t.app)
    expect((await browser.login('vet@pawsrescue.co', 'a strong staff password')).statusCode).toBe(303)
  })

  it('create-staff applies the password rules and refuses bad input with a clear message and exit code 1', async () => {
    expect(await cli(['create-staff', '--email', 'weak@pawsrescue.co', '--name', 'Weak'], 'password\n')).toMatchObject({ code: 1, err: 'Password: This password is too common. Please choose another.\n' })
    expect(await cli(['create-staff', '--email', 'short@pawsrescue.co', '--name', 'Short'], 'abc\n')).toMatchObject({ code: 1, err: 'Password: Use at least 8 characters.\n' })
    expect((await cli(['create-staff', '--email', 'not-an-email', '--name', 'X'], 'a strong password 2\n')).err).toContain('--email: Enter a valid email address')
    expect((await cli(['create-staff', '--email', 'noname@pawsrescue.co'], 'a strong password 2\n')).err).toContain('--name: expected a name')
    expect((await cli(['create-staff', '--email', DEMO_STAFF.email, '--name', 'Dup'], 'a strong password 2\n')).err).toContain('already exists')
    expect((await cli(['create-staff', '--bogus'])).code).toBe(1)
    for (const email of ['weak@pawsrescue.co', 'short@pawsrescue.co', 'noname@pawsrescue.co']) expect(await role(email)).toBeUndefined()
  })

  it('promote and demote change a role, and say so', async () => {
    const browser = new TestBrowser(t.app)
    await browser.signup('Helper', 'helper@example.com', 'helping out a lot 5')
    expect(await cli(['promote', 'helper@example.com'])).toMatchObject({ code: 0, out: 'helper@example.com is now staff.\n' })
    expect(await role('helper@example.com')).toBe('staff')
    expect((await browser.get('/pets/new')).statusCode).toBe(200)
    expect(await cli(['demote', 'HELPER@example.com'])).toMatchObject({ code: 0, out: 'helper@example.com is now adopter.\n' })
    expect((await browser.get('/pets/new')).statusCode).toBe(403)
    expect(await cli(['promote', 'nobody@example.com'])).toMatchObject({ code: 1, err: 'No account has the email nobody@example.com.\n' })
  })

  it('promote, demote and revoke record the events with the operator as actor (ip "cli", no staff id)', async () => {
    const browser = new TestBrowser(t.app)
    await browser.signup('Operated', 'operated@example.com', 'operated on a lot 5')
    await cli(['promote', 'operated@example.com'])
    await cli(['demote', 'operated@example.com'])
    await cli(['revoke', 'operated@example.com'])
    const id = (await t.db.kysely.selectFrom('users').select('id').where('email', '=', 'operated@example.com').executeTakeFirstOrThrow()).id
    const events = await t.db.kysely.selectFrom('account_events').select(['type', 'ip', 'actor_user_id', 'detail'])
      .where('user_id', '=', id).where('ip', '=', 'cli').orderBy('id').execute()
    expect(events).toEqual([
      { type: 'role_changed', ip: 'cli', actor_user_id: null, detail: 'staff' },
      { type: 'role_changed', ip: 'cli', actor_user_id: null, detail: 'adopter' },
      { type: 'sessions_revoked', ip: 'cli', actor_user_id: null, detail: null }
    ])
  })

  it('demote refuses the last staff account that can log in', async () => {
    const staffEmails = (await t.db.kysely.selectFrom('users').select('email').where('role', '=', 'staff').where('suspended_at', 'is', null).execute()).map((u) => u.email)
    for (const email of staffEmails.filter((e) => e !== DEMO_STAFF.email)) expect((await cli(['demote', email])).code).toBe(0)
    const res = await cli(['demote', DEMO_STAFF.email])
    expect(res).toMatchObject({ code: 1, err: `${DEMO_STAFF.email} is the last staff account that can log in; make someone else staff first.\n` })
    expect(await role(DEMO_STAFF.email)).toBe('staff')
    for (const email of staffEmails.filter((e) => e !== DEMO_STAFF.email)) await cli(['promote', email])
  })

  it('sessions lists an account’s sessions and revoke ends them all', async () => {
    // The CLI reads the real clock: the app's sessions must be live by it, whatever the day.
    t.clock.set(Date.now())
    const a = new TestBrowser(t.app)
    const b = new TestBrowser(t.app, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0')
    await a.login(DEMO_STAFF.email, DEMO_STAFF.password)
    await b.login(DEMO_STAFF.email, DEMO_STAFF.password, { remember: true })
    const listed = await cli(['sessions', DEMO_STAFF.email])
    expect(listed.code).toBe(0)
    expect(listed.out).toContain('Chrome on Linux')
    expect(listed.out).toContain('Firefox on Windows')
    const revoked = await cli(['revoke', DEMO_STAFF.email])
    expect(revoked.code).toBe(0)
    expect(revoked.out).toMatch(/^Ended \d+ sessions of team@pawsrescue.co.\n$/)
    for (const browser of [a, b]) expect((await browser.get('/')).body).not.toContain('nav-user')
    expect((await cli(['sessions', DEMO_STAFF.email])).out).toBe('team@pawsrescue.co has no active sessions.\n')
  })

  it('unknown commands and a bad environment exit non-zero with a message', async () => {
    const unknown = await cli(['frobnicate'])
    expect(unknown.code).toBe(1)
    expect(unknown.err).toContain('Unknown command "frobnicate"')
    const saved = env
    env = { ...env, DATABASE_URL: 'mysql://nope' }
    const bad = await cli(['migrate'])
    env = saved
    expect(bad.code).toBe(1)
    expect(bad.err).toContain('DATABASE_URL')
    expect(await cli(['migrate'])).toMatchObject({ code: 0, out: 'The database is up to date.\n' })
  })

  it('mail lists the latest messages, newest first, with their links (development: bodies kept); a bad --limit is refused', async () => {
    const email = `listed-${Date.now()}@example.com`
    expect((await new TestBrowser(t.app).signup('Listed', email, 'listed password 1')).statusCode).toBe(303)
    await t.app.outbox.idle()
    const res = await cli(['mail', '--limit', '1'])
    expect(res.code).toBe(0)
    expect(res.out).toContain(`to ${email}`)
    expect(res.out).toContain('Confirm your email address')
    expect(res.out).toMatch(/sent /)
    expect(res.out).toMatch(/\n {2}http:\/\/127\.0\.0\.1:3000\/verify-email\/[A-Za-z0-9_-]{43}\n/)
    expect(await cli(['mail', '--limit', 'lots'])).toMatchObject({ code: 1, err: '--limit: expected a whole number from 1 to 1000.\n' })
  })
})
