/**
 * The rescue team's people pages (issue 19), through HTTP on SQLite and PostgreSQL: who may see and do
 * what, the form token, the last-staff and self rules, what a suspension ends (sessions, login, reset
 * links), the record of every action on both histories, keyset paging while accounts are added, the
 * search, and plans that use the indexes.
 */
import { CompiledQuery, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordEvent } from '../../src/db/queries/events.js'
import { insertUser, peopleQuery } from '../../src/db/queries/users.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, TestBrowser, fieldError, flashText, formErrorText } from '../helpers/browser.js'
import { linkIn, startTestSmtp, type TestSmtp } from '../helpers/smtp.js'

const PUBLIC_URL = 'https://paws.example.org'
const SUSPENDED = 'This account is suspended. Please contact the rescue team.'
const INVALID_LINK = 'This link is invalid or has expired.'
const PASSWORD = 'adopting a kitten 7'

let smtp: TestSmtp
let t: TestApp
let staff: TestBrowser
let staffId: number
beforeAll(async () => {
  smtp = await startTestSmtp()
  t = await createTestApp({ env: { SMTP_URL: smtp.url, PUBLIC_URL, SIGNUPS_PER_IP_PER_HOUR: '1000', PASSWORD_RESET_REQUESTS_PER_IP_PER_HOUR: '1000' } })
  staff = new TestBrowser(t.app)
  expect((await staff.login(DEMO_STAFF.email, DEMO_STAFF.password)).statusCode).toBe(303)
  staffId = await idOf(DEMO_STAFF.email)
})
afterAll(async () => {
  await t.close()
  await smtp.close()
})

async function idOf (email: string): Promise<number> {
  return (await t.db.kysely.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id
}

let counter = 0
/** A new adopter, signed in in a browser of its own. */
async function newAdopter (name = `Adopter ${++counter}`): Promise<{ id: number, email: string, browser: TestBrowser }> {
  const email = `adopter${++counter}@example.com`
  const browser = new TestBrowser(t.app)
  expect((await browser.signup(name, email, PASSWORD)).statusCode).toBe(303)
  return { id: await idOf(email), email, browser }
}

async function newStaff (): Promise<{ id: number, email: string, browser: TestBrowser }> {
  const person = await newAdopter()
  await t.db.kysely.updateTable('users').set({ role: 'staff' }).where('id', '=', person.id).execute()
  return person
}

async function isSignedIn (browser: TestBrowser): Promise<boolean> {
  return (await browser.get('/')).body.includes('class="nav-user"')
}

async function eventsOf (userId: number) {
  return await t.db.kysely.selectFrom('account_events').selectAll().where('user_id', '=', userId).orderBy('id').execute()
}

async function userRow (id: number) {
  return await t.db.kysely.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
}

describe('authorization', () => {
  let target: number
  beforeAll(async () => { target = (await newAdopter()).id })
  const gets = () => ['/staff/people', '/staff/people?q=a', `/staff/people/${target}`]
  const posts = () => ['sessions/end', 'sessions/end-all', 'suspend', 'restore', 'role', 'password-reset'].map((a) => `/staff/people/${target}/${a}`)

  it('an anonymous visitor is sent to log in, for every page and every action', async () => {
    const visitor = new TestBrowser(t.app)
    for (const url of gets()) {
      const res = await visitor.get(url)
      expect(res.statusCode, url).toBe(303)
      expect(res.headers.location, url).toBe(`/login?next=${encodeURIComponent(url)}`)
    }
    for (const url of posts()) {
      const res = await visitor.post(url, { reason: 'x', role: 'staff' }, { from: '/login' })
      expect(res.statusCode, url).toBe(303)
      expect(res.headers.location, url).toBe('/login')
    }
    expect((await userRow(target)).suspended_at).toBeNull()
  })

  it('an adopter gets 403 for every page and every action, and nothing changes', async () => {
    const { browser } = await newAdopter()
    for (const url of gets()) expect((await browser.get(url)).statusCode, url).toBe(403)
    for (const url of posts()) {
      const res = await browser.post(url, { reason: 'x', role: 'staff' }, { from: '/account' })
      expect(res.statusCode, url).toBe(403)
      expect(res.body).toContain('Only the rescue team can do this.')
    }
    const row = await userRow(target)
    expect(row.suspended_at).toBeNull()
    expect(row.role).toBe('adopter')
  })

  it('staff see both pages; the navigation links to the people page for staff only', async () => {
    for (const url of gets()) expect((await staff.get(url)).statusCode, url).toBe(200)
    expect((await staff.get('/')).body).toContain('href="/staff/people"')
    const { browser } = await newAdopter()
    expect((await browser.get('/')).body).not.toContain('href="/staff/people"')
  })

  it('every action needs the form token: a forged post changes nothing', async () => {
    // A page on another site posting to the team's action with the staff member's cookie.
    for (const csrf of [null, 'forged-token']) {
      const res = await staff.post(`/staff/people/${target}/suspend`, { reason: 'forged' }, { csrf })
      expect(res.statusCode).toBe(403)
      const role = await staff.post(`/staff/people/${target}/role`, { role: 'staff' }, { csrf })
      expect(role.statusCode).toBe(403)
    }
    const row = await userRow(target)
    expect(row.suspended_at).toBeNull()
    expect(row.role).toBe('adopter')
  })

  it('unknown accounts are 404; malformed page links are 400, never 5xx', async () => {
    expect((await staff.get('/staff/people/99999999')).statusCode).toBe(404)
    expect((await staff.get('/staff/people/abc')).statusCode).toBe(404)
    expect((await staff.post('/staff/people/99999999/suspend', { reason: 'x' }, { from: '/staff/people' })).statusCode).toBe(404)
    for (const url of ['/staff/people?after=abc', '/staff/people?after=1.0', '/staff/people?after=1.2.3', '/staff/people?after=-1.5',
      '/staff/people?q=%00', '/staff/people?q=a&q=b', `/staff/people?q=${'a'.repeat(255)}`, '/staff/people?q=%F4%8F%BF%BF',
      `/staff/people/${target}?before=x`, `/staff/people/${target}?before=0`]) {
      const res = await staff.get(url)
      expect(res.statusCode, url).toBe(400)
      expect(res.body).toContain('That page link is not valid.')
    }
  })
})

describe('roles', () => {
  it('staff make an adopter staff and back; both histories record it with the actor', async () => {
    const person = await newAdopter()
    const res = await staff.post(`/staff/people/${person.id}/role`, { role: 'staff' }, { from: `/staff/people/${person.id}` })
    expect(res.statusCode).toBe(303)
    expect(flashText((await staff.follow(res)).body)).toBe('The role has been changed.')
    expect((await userRow(person.id)).role).toBe('staff')
    expect((await person.browser.get('/staff/people')).statusCode).toBe(200)
    await staff.post(`/staff/people/${person.id}/role`, { role: 'adopter' }, { from: `/staff/people/${person.id}` })
    expect((await userRow(person.id)).role).toBe('adopter')
    expect((await person.browser.get('/staff/people')).statusCode).toBe(403)
    const changes = (await eventsOf(person.id)).filter((e) => e.type === 'role_changed')
    expect(changes.map((e) => [e.actor_user_id, e.detail])).toEqual([[staffId, 'staff'], [staffId, 'adopter']])
    const own = (await eventsOf(staffId)).filter((e) => e.type === 'staff_action').map((e) => e.detail)
    expect(own).toEqual(expect.arrayContaining([`Made staff: ${person.email}`, `Made adopter: ${person.email}`]))
    const page = (await person.browser.get('/account')).body
    expect(page).toContain('Role changed by the rescue team: adopter')
  })

  it('nobody changes their own role or suspends themselves', async () => {
    const page = (await staff.get(`/staff/people/${staffId}`)).body
    expect(page).toContain('This is your own account: you cannot change its role or suspend it.')
    const role = await staff.post(`/staff/people/${staffId}/role`, { role: 'adopter' }, { from: `/staff/people/${staffId}` })
    expect(role.statusCode).toBe(403)
    expect(formErrorText(role.body)).toBe('You cannot do that to your own account. Ask another member of the rescue team.')
    const suspend = await staff.post(`/staff/people/${staffId}/suspend`, { reason: 'me' }, { from: `/staff/people/${staffId}` })
    expect(suspend.statusCode).toBe(403)
    const row = await userRow(staffId)
    expect(row.role).toBe('staff')
    expect(row.suspended_at).toBeNull()
  })

  it('the last staff account never loses its role: of two staff demoting each other at once, one wins', async () => {
    // Two staff members each demote the other at the same moment; without the count inside the
    // transaction both would pass and leave the team with no staff account but the demo one.
    const [a, b] = [await newStaff(), await newStaff()]
    // The demo staff account is out of the count while suspended, so a and b are the last two.
    await t.db.kysely.updateTable('users').set({ suspended_at: t.clock() }).where('id', '=', staffId).execute()
    try {
      const csrfA = await a.browser.csrfFrom(`/staff/people/${b.id}`)
      const csrfB = await b.browser.csrfFrom(`/staff/people/${a.id}`)
      const [ra, rb] = await Promise.all([
        a.browser.post(`/staff/people/${b.id}/role`, { role: 'adopter' }, { csrf: csrfA }),
        b.browser.post(`/staff/people/${a.id}/role`, { role: 'adopter' }, { csrf: csrfB })
      ])
      expect([ra.statusCode, rb.statusCode].sort()).toEqual([303, 409])
      const refused = ra.statusCode === 409 ? ra : rb
      expect(formErrorText(refused.body)).toBe('This is the last staff account that can log in, so it cannot lose its role. Make someone else staff first.')
      const roles = [(await userRow(a.id)).role, (await userRow(b.id)).role]
      expect(roles.filter((r) => r === 'staff')).toHaveLength(1)
    } finally {
      await t.db.kysely.updateTable('users').set({ suspended_at: null }).where('id', '=', staffId).execute()
    }
  })

  it('an unknown role is a 400 and changes nothing', async () => {
    const person = await newAdopter()
    const res = await staff.post(`/staff/people/${person.id}/role`, { role: 'admin' }, { from: `/staff/people/${person.id}` })
    expect(res.statusCode).toBe(400)
    expect((await userRow(person.id)).role).toBe('adopter')
  })
})

describe('sessions', () => {
  it('staff see the live sessions and end one, then all; the person sees "by the rescue team"', async () => {
    const person = await newAdopter()
    const other = new TestBrowser(t.app, 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15')
    await other.login(person.email, PASSWORD)
    const page = (await staff.get(`/staff/people/${person.id}`)).body
    expect(page).toContain('Chrome on Linux')
    expect(page).toContain('Safari on macOS')
    const sessions = await t.db.kysely.selectFrom('sessions').select(['id', 'user_agent']).where('user_id', '=', person.id).execute()
    const safari = sessions.find((s) => s.user_agent.includes('Safari/605'))!
    const end = await staff.post(`/staff/people/${person.id}/sessions/end`, { sessionId: safari.id }, { from: `/staff/people/${person.id}` })
    expect(end.statusCode).toBe(303)
    expect(flashText((await staff.follow(end)).body)).toBe('That session has been ended.')
    expect(await isSignedIn(other)).toBe(false)
    expect(await isSignedIn(person.browser)).toBe(true)
    expect((await person.browser.get('/account')).body).toContain('Session ended by the rescue team')

    const all = await staff.post(`/staff/people/${person.id}/sessions/end-all`, {}, { from: `/staff/people/${person.id}` })
    expect(flashText((await staff.follow(all)).body)).toBe('Every session of the account has been ended.')
    expect(await isSignedIn(person.browser)).toBe(false)
    const types = (await eventsOf(person.id)).filter((e) => e.actor_user_id === staffId).map((e) => e.type)
    expect(types).toEqual(['staff_ended_session', 'staff_ended_sessions'])
    expect((await staff.get(`/staff/people/${person.id}`)).body).toContain('No live sessions.')
  })

  it('a session of another account cannot be ended through this one', async () => {
    const [a, b] = [await newAdopter(), await newAdopter()]
    const bSession = (await t.db.kysely.selectFrom('sessions').select('id').where('user_id', '=', b.id).executeTakeFirstOrThrow()).id
    await staff.post(`/staff/people/${a.id}/sessions/end`, { sessionId: bSession }, { from: `/staff/people/${a.id}` })
    expect(await isSignedIn(b.browser)).toBe(true)
  })
})

describe('suspension', () => {
  it('a reason is required', async () => {
    const person = await newAdopter()
    const res = await staff.post(`/staff/people/${person.id}/suspend`, { reason: '  ' }, { from: `/staff/people/${person.id}` })
    expect(res.statusCode).toBe(400)
    expect(fieldError(res.body, 'reason')).toBe('Enter the reason for suspending this account.')
    expect((await userRow(person.id)).suspended_at).toBeNull()
  })

  it('ends every session at once, refuses the right password with the message and no session, kills reset links; restore lets the person in again', async () => {
    const person = await newAdopter()
    const second = new TestBrowser(t.app)
    await second.login(person.email, PASSWORD)
    // A reset link asked for before the suspension must not be a way back in.
    const before = smtp.received.length
    await new TestBrowser(t.app).post('/password-reset', { email: person.email })
    await t.app.outbox.idle()
    const mail = await smtp.waitFor((m) => m.to === person.email && m.subject.includes('Reset your password') && smtp.received.indexOf(m) >= before)
    const link = new URL(linkIn(mail, `${PUBLIC_URL}/password-reset/`)).pathname

    const res = await staff.post(`/staff/people/${person.id}/suspend`, { reason: 'Abusive messages to fosterers' }, { from: `/staff/people/${person.id}` })
    expect(res.statusCode).toBe(303)
    const page = (await staff.follow(res)).body
    expect(flashText(page)).toBe('The account is suspended and every one of its sessions has ended.')
    expect(page).toContain('Abusive messages to fosterers')
    expect(await isSignedIn(person.browser)).toBe(false)
    expect(await isSignedIn(second)).toBe(false)
    expect(await t.db.kysely.selectFrom('sessions').select('id').where('user_id', '=', person.id).execute()).toEqual([])

    const fresh = new TestBrowser(t.app)
    const login = await fresh.login(person.email, PASSWORD)
    expect(login.statusCode).toBe(403)
    expect(formErrorText(login.body)).toBe(SUSPENDED)
    expect(fresh.cookies.has('paws_session')).toBe(false)
    expect(await isSignedIn(fresh)).toBe(false)
    const wrong = await fresh.login(person.email, 'not the password 1')
    expect(wrong.statusCode).toBe(401)

    expect((await new TestBrowser(t.app).get(link)).body).toContain(INVALID_LINK)
    const used = await new TestBrowser(t.app).post(link, { password: 'a new password 99', confirmPassword: 'a new password 99' }, { from: '/password-reset' })
    expect(used.body).toContain(INVALID_LINK)
    const afterSuspension = smtp.received.length
    await new TestBrowser(t.app).post('/password-reset', { email: person.email })
    await staff.post(`/staff/people/${person.id}/password-reset`, {}, { from: `/staff/people/${person.id}` })
    await t.app.outbox.idle()
    expect(smtp.received.slice(afterSuspension).filter((m) => m.to === person.email)).toEqual([])

    const events = await eventsOf(person.id)
    const suspended = events.find((e) => e.type === 'suspended')!
    expect(suspended).toMatchObject({ actor_user_id: staffId, detail: 'Abusive messages to fosterers' })
    expect(events.filter((e) => e.type === 'login_suspended')).toHaveLength(1)
    expect((await eventsOf(staffId)).some((e) => e.type === 'staff_action' && e.detail === `Suspended: ${person.email}`)).toBe(true)

    const restore = await staff.post(`/staff/people/${person.id}/restore`, {}, { from: `/staff/people/${person.id}` })
    expect(flashText((await staff.follow(restore)).body)).toBe('The account is restored: it can log in again.')
    expect((await fresh.login(person.email, PASSWORD)).statusCode).toBe(303)
    expect(await isSignedIn(fresh)).toBe(true)
    const account = (await fresh.get('/account')).body
    expect(account).toContain('Account suspended by the rescue team')
    expect(account).toContain('Account restored by the rescue team')
    expect(account).not.toContain('Abusive messages')
  })

  it('suspending twice changes nothing more', async () => {
    const person = await newAdopter()
    await staff.post(`/staff/people/${person.id}/suspend`, { reason: 'first' }, { from: `/staff/people/${person.id}` })
    const again = await staff.post(`/staff/people/${person.id}/suspend`, { reason: 'second' }, { from: `/staff/people/${person.id}` })
    expect(again.statusCode).toBe(303)
    expect((await userRow(person.id)).suspension_reason).toBe('first')
  })
})

describe('reset links from the team', () => {
  it('sends the reset link as if the person asked, recorded with the actor on both histories', async () => {
    const person = await newAdopter()
    const before = smtp.received.length
    const res = await staff.post(`/staff/people/${person.id}/password-reset`, {}, { from: `/staff/people/${person.id}` })
    expect(res.statusCode).toBe(303)
    expect(flashText((await staff.follow(res)).body)).toBe('A password reset link is on its way to their email address.')
    await t.app.outbox.idle()
    await smtp.waitFor((m) => m.to === person.email && m.subject.includes('Reset your password') && smtp.received.indexOf(m) >= before)
    const requested = (await eventsOf(person.id)).find((e) => e.type === 'password_reset_requested')!
    expect(requested.actor_user_id).toBe(staffId)
    expect((await eventsOf(staffId)).some((e) => e.detail === `Sent a password reset link: ${person.email}`)).toBe(true)
    expect((await person.browser.get('/account')).body).toContain('Password reset link asked for by the rescue team')
  })
})

describe('the list', () => {
  it('shows each account with name, email, role, confirmation, two-factor on or off, status, created and last login', async () => {
    const person = await newAdopter('Zelda Quill')
    const page = (await staff.get(`/staff/people?q=${encodeURIComponent(person.email)}`)).body
    expect(page).toContain(`href="/staff/people/${person.id}">Zelda Quill</a>`)
    expect(page).toContain(`<td data-label="Email">${person.email}</td>`)
    expect(page).toContain('<td data-label="Role">Adopter</td>')
    expect(page).toContain('<td data-label="Email confirmed">no</td>')
    expect(page).toContain('<td data-label="Two-factor">off</td>')
    expect(page).toContain('<td data-label="Status">active</td>')
    expect(page).toContain('<td data-label="Last login"><span>never</span></td>')
    await new TestBrowser(t.app).login(person.email, PASSWORD)
    expect((await staff.get(`/staff/people?q=${encodeURIComponent(person.email)}`)).body).toMatch(/<td data-label="Last login"><time datetime="[^"]+">/)
  })

  it('finds accounts by email prefix and by name prefix, whatever the case', async () => {
    const a = await newAdopter('Marigold Finch')
    await newAdopter('Finchley Moss')
    const byEmail = (await staff.get(`/staff/people?q=${encodeURIComponent(a.email.slice(0, -5).toUpperCase())}`)).body
    expect(byEmail).toContain('Marigold Finch')
    expect(byEmail).not.toContain('Finchley Moss')
    const byName = (await staff.get('/staff/people?q=mari')).body
    expect(byName).toContain('Marigold Finch')
    const byName2 = (await staff.get('/staff/people?q=FINCH')).body
    expect(byName2).toContain('Finchley Moss')
    expect(byName2).not.toContain('Marigold Finch')
    expect((await staff.get('/staff/people?q=nobody-has-this')).body).toContain('No accounts match.')
  })

  it('pages by keyset, newest first, without duplicates or gaps while accounts are added between page loads', async () => {
    const base = t.clock() - 10_000_000
    const ids: number[] = []
    for (let i = 0; i < 130; i++) {
      // Pairs share a creation time: the id breaks the tie.
      const user = await insertUser(t.db.kysely, { email: `page${i}@paging.example`, full_name: `Paging ${i}`, password_hash: 'x', role: 'adopter', created_at: base + Math.floor(i / 2) })
      ids.push(user.id)
    }
    const seen: number[] = []
    let url: string | null = '/staff/people?q=page'
    let added = 0
    while (url !== null) {
      const page: string = (await staff.get(url)).body
      expect(page).not.toContain('That page link is not valid')
      seen.push(...[...page.matchAll(/<td data-label="Name"><a href="\/staff\/people\/(\d+)">/g)].map((m) => Number(m[1])))
      // Someone signs up between two page loads: they belong to the first page, not to the next one.
      await insertUser(t.db.kysely, { email: `page-late${added++}@paging.example`, full_name: 'Late', password_hash: 'x', role: 'adopter', created_at: t.clock() })
      const next: string | undefined = /<a href="([^"]+)" rel="next">/.exec(page)?.[1]
      url = next === undefined ? null : next.replaceAll('&amp;', '&')
    }
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).toEqual([...ids].reverse())
    expect(added).toBe(3)
  })
})

describe('the history on the person\'s page', () => {
  it('shows the last 50 events, then older ones a page at a time, none twice and none missed', async () => {
    const person = await newAdopter()
    for (let i = 0; i < 70; i++) await recordEvent(t.db.kysely, person.id, 'login_failed', { ip: `10.0.0.${i}`, userAgent: 'x', now: t.clock() })
    const all = (await eventsOf(person.id)).length
    const seen: string[] = []
    let url: string | null = `/staff/people/${person.id}`
    while (url !== null) {
      const page: string = (await staff.get(url)).body
      const history = page.slice(page.indexOf('id="events-heading"'))
      const rows = [...history.matchAll(/<td data-label="IP address">([^<]*)<\/td>/g)].map((m) => m[1]!)
      expect(rows.length).toBeLessThanOrEqual(50)
      seen.push(...rows)
      url = /<a href="([^"]+)">Older events<\/a>/.exec(history)?.[1] ?? null
    }
    expect(seen).toHaveLength(all)
    expect(seen.filter((ip) => ip.startsWith('10.0.0.'))).toEqual(Array.from({ length: 70 }, (_, i) => `10.0.0.${69 - i}`))
  })
})

describe('the plans', () => {
  it('the list and both searches read ranges of indexes, never the whole table', async () => {
    const queries = [
      peopleQuery(t.db.kysely, { limit: 51 }),
      peopleQuery(t.db.kysely, { limit: 51, after: { createdAt: 1, id: 1 } }),
      peopleQuery(t.db.kysely, { limit: 51, prefix: 'ada@', emailOnly: true }),
      peopleQuery(t.db.kysely, { limit: 51, prefix: 'ada' })
    ].map((q) => q.compile())
    for (const q of queries) {
      if (t.db.dialect === 'sqlite') {
        const plan = (await t.db.kysely.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]))).rows.map((r) => r.detail)
        const onUsers = plan.filter((d) => /\busers\b/.test(d))
        expect(onUsers.length, q.sql).toBeGreaterThan(0)
        for (const step of onUsers) expect(step, q.sql).toMatch(/USING (COVERING )?INDEX|PRIMARY KEY|MULTI-INDEX OR/)
      } else {
        // A handful of rows makes a sequential scan the cheapest plan; with it priced out, the plan shows the index is usable.
        const plan = await t.db.kysely.transaction().execute(async (trx) => {
          await sql`set local enable_seqscan = off`.execute(trx)
          return (await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${q.sql}`, [...q.parameters]))).rows.map((r) => r['QUERY PLAN']).join('\n')
        })
        expect(plan, q.sql).not.toMatch(/Seq Scan on users/)
        expect(plan, q.sql).toMatch(/Index/)
      }
    }
  })
})
