/**
 * The in-process caches of what every page reads (the session behind a cookie, the pet list) never show
 * anything older than the last commit. Writes through a second connection stand for another process: a
 * cluster worker, a second instance, the CLI. Runs on both databases, each with its own change mark
 * (the WAL-index header on SQLite, the server's current snapshot on PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashToken } from '../../src/auth/tokens.js'
import { listPets } from '../../src/db/queries/pets.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF as SEEDED_STAFF } from '../../src/db/seed.js'
import { DEMO_STAFF, extractCsrf, flashText, TestBrowser } from '../helpers/browser.js'

let t: TestApp
beforeAll(async () => { t = await createTestApp() })
afterAll(async () => { await t.close() })

function sessionToken (browser: TestBrowser): string {
  const token = browser.cookies.get('paws_session')?.value
  if (token === undefined) throw new Error('not signed in')
  return token
}

async function signedInAs (browser: TestBrowser): Promise<string | null> {
  const body = (await browser.get('/')).body
  return /class="nav-user"[^>]*>([^<]+)</.exec(body)?.[1] ?? null
}

describe('the pet list on the home page', () => {
  it('shows a pet added, renamed and deleted by another process on the very next view', async () => {
    const browser = new TestBrowser(t.app)
    const before = (await browser.get('/')).body
    expect(before).not.toContain('Biscuit the Brave')
    expect((await browser.get('/')).body).toBe(before)

    const now = Date.now()
    const { id } = await t.db.kysely.insertInto('pets')
      .values({ name: 'Biscuit the Brave', name_key: 'biscuit the brave', age: '2 years', bio: 'Loves naps.', picture: 'nelly.svg', created_at: now, updated_at: now })
      .returning('id').executeTakeFirstOrThrow()
    expect((await browser.get('/')).body).toContain('Biscuit the Brave')

    await t.db.kysely.updateTable('pets').set({ name: 'Biscuit the Bold', name_key: 'biscuit the bold' }).where('id', '=', id).execute()
    const renamed = (await browser.get('/')).body
    expect(renamed).toContain('Biscuit the Bold')
    expect(renamed).not.toContain('Biscuit the Brave')

    await t.db.kysely.deleteFrom('pets').where('id', '=', id).execute()
    expect((await browser.get('/')).body).not.toContain('Biscuit the Bold')
  })
})

describe('per-request reads on the app\'s own connection', () => {
  it('never see another request\'s uncommitted writes: inside a transaction they wait for it', async () => {
    const db = t.db
    const rollback = new Error('roll back')
    let pending: Promise<string[]> | undefined
    await expect(db.kysely.transaction().execute(async (trx) => {
      const now = Date.now()
      await trx.insertInto('pets')
        .values({ name: 'Uncommitted Ursula', name_key: 'uncommitted ursula', age: '1 year', bio: 'Never saved.', picture: 'nelly.svg', created_at: now, updated_at: now })
        .execute()
      // A read on the same database handle while the transaction is open, as a concurrent request would make.
      pending = listPets(db.kysely).then((pets) => pets.map((p) => p.name))
      throw rollback
    })).rejects.toBe(rollback)
    const names = await pending!
    expect(names.length).toBeGreaterThan(0)
    expect(names).not.toContain('Uncommitted Ursula')
  })
})

describe('the session behind a cookie', () => {
  it('stops working on the very next request once another process deletes it (logout, revoke)', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    expect(await signedInAs(browser)).toBe(SEEDED_STAFF.fullName)
    expect(await signedInAs(browser)).toBe(SEEDED_STAFF.fullName)

    await t.db.kysely.deleteFrom('sessions').where('id', '=', hashToken(sessionToken(browser))).execute()
    expect(await signedInAs(browser)).toBeNull()
  })

  it('shows a name or role changed by another process on the very next request (demote from the CLI)', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    expect((await browser.get('/pets/new')).statusCode).toBe(200)

    await t.db.kysely.updateTable('users').set({ role: 'adopter', full_name: 'Renamed Elsewhere' }).where('email', '=', DEMO_STAFF.email).execute()
    try {
      expect(await signedInAs(browser)).toBe('Renamed Elsewhere')
      expect((await browser.get('/pets/new')).statusCode).toBe(403)
    } finally {
      await t.db.kysely.updateTable('users').set({ role: 'staff', full_name: SEEDED_STAFF.fullName }).where('email', '=', DEMO_STAFF.email).execute()
    }
    expect((await browser.get('/pets/new')).statusCode).toBe(200)
  })

  it('ends idle sessions on time even while kept in memory (expiry is checked on every request)', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    expect(await signedInAs(browser)).toBe(SEEDED_STAFF.fullName)
    t.clock.advance(t.config.session.idleTimeoutMs + 1)
    expect(await signedInAs(browser)).toBeNull()
  })
})

describe('the home page, kept per visitor while nothing changes', () => {
  it('shows each signed-in visitor their own name and form token, and that token logs out only them', async () => {
    const staff = new TestBrowser(t.app)
    await staff.login(DEMO_STAFF.email, DEMO_STAFF.password)
    await staff.get('/') // shows the login message once
    const adopter = new TestBrowser(t.app)
    await adopter.signup('Kept Page Kim', 'kim@example.com', 'a long enough passphrase 1')
    await adopter.get('/') // shows the sign-up message once

    const pages = []
    for (let i = 0; i < 3; i++) pages.push((await staff.get('/')).body, (await adopter.get('/')).body)
    for (const [i, page] of pages.entries()) {
      expect(/class="nav-user"[^>]*>([^<]+)</.exec(page)?.[1]).toBe(i % 2 === 0 ? SEEDED_STAFF.fullName : 'Kept Page Kim')
      expect(page).toBe(pages[i % 2])
    }
    expect(pages[0]).toContain('Add a pet')
    expect(pages[1]).not.toContain('Add a pet')
    expect(extractCsrf(pages[0]!)).not.toBe(extractCsrf(pages[1]!))

    // The staff member's token from the kept page is refused for the adopter, and logs the staff member out.
    expect((await adopter.post('/logout', {}, { csrf: extractCsrf(pages[0]!) })).statusCode).toBe(403)
    expect((await staff.post('/logout', {}, { csrf: extractCsrf(pages[0]!) })).statusCode).toBe(303)
    expect(await signedInAs(staff)).toBeNull()
    expect(await signedInAs(adopter)).toBe('Kept Page Kim')
  })

  it('still shows a one-time message once, to a visitor whose page without it is kept', async () => {
    const browser = new TestBrowser(t.app)
    await browser.login(DEMO_STAFF.email, DEMO_STAFF.password)
    expect(flashText((await browser.get('/')).body)).toBe('Successfully logged in!')
    const kept = (await browser.get('/')).body
    expect(flashText(kept)).toBeNull()
    expect(flashText((await browser.get('/')).body)).toBeNull()

    const anonymous = new TestBrowser(t.app)
    const anonymousPage = (await anonymous.get('/')).body
    expect((await anonymous.get('/')).body).toBe(anonymousPage)
    // A message that comes without any write (the logged-out marker) is shown over the kept anonymous page.
    const marked = await anonymous.follow(await anonymous.get('/?logged-out'))
    expect(flashText(marked.body)).toBe('You have been logged out.')
    expect((await anonymous.get('/')).body).toBe(anonymousPage)
    await browser.post('/logout', {}, { csrf: extractCsrf(kept) })
    const afterLogout = await browser.follow(await browser.get('/?logged-out'))
    expect(flashText(afterLogout.body)).toBe('You have been logged out.')
    expect((await browser.get('/')).body).toBe(anonymousPage)
  })
})
