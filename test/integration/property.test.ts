/**
 * Property: whatever is sent to a form route (random and adversarial values, arrays, invalid escapes,
 * huge strings), the answer is never a 5xx, and the database changes only when the route accepts the
 * input (a 303). Account events are left out of the comparison: a failed login records one by design.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPasswordHasher } from '../../src/auth/passwords.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, TestBrowser, extractCsrf } from '../helpers/browser.js'

const RUNS = 500

let t: TestApp
beforeAll(async () => {
  // Cheap hashing parameters: this test is about input handling, not hashing cost.
  t = await createTestApp({
    hasher: createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, { concurrency: 2, queue: 1000 }),
    env: { SIGNUPS_PER_IP_PER_HOUR: '100000', LOGIN_FAILURES_PER_IP_PER_MINUTE: '100000', LOGIN_MAX_FAILURES: '100000', LOG_LEVEL: 'warn' }
  })
})
afterAll(async () => { await t.close() })

async function snapshot (): Promise<string> {
  const users = await t.db.kysely.selectFrom('users').select(['id', 'email', 'full_name', 'role', 'password_hash']).orderBy('id').execute()
  const pets = await t.db.kysely.selectFrom('pets').select(['id', 'name', 'age', 'bio']).orderBy('id').execute()
  const sessions = await t.db.kysely.selectFrom('sessions').select(['id', 'user_id']).orderBy('id').execute()
  return JSON.stringify({ users, pets, sessions })
}

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 120 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom(
    "' OR '1'='1' --", "'; DROP TABLE users; --", 'Robert"); DELETE FROM pets; --', '<script>alert(1)</script>',
    '"><img src=x onerror=alert(1)>', '\u0000', '\u200b\u200c\u200d\ufeff', '\u202e', '\r\n\t', 'a'.repeat(10_000),
    '__proto__', 'constructor', 'team@pawsrescue.co', 'adminpass', '🐾'.repeat(300), '%', '%%', '1e309', '-1', 'NaN'
  ),
  fc.string({ minLength: 8, maxLength: 30 })
)

/** A field as it travels: properly encoded, or raw (invalid percent escapes and all), once or repeated. */
const encodedValue = fc.oneof(
  { weight: 5, arbitrary: hostileText.map((v) => [encodeURIComponent(v)]) },
  { weight: 1, arbitrary: fc.constantFrom('%E0%A4%A', '%C3%28', '%ZZ', '%FF%FE', '%', '%00', '%ED%A0%80').map((v) => [v]) },
  { weight: 1, arbitrary: fc.array(hostileText, { minLength: 2, maxLength: 3 }).map((vs) => vs.map(encodeURIComponent)) }
)

function formBody (fields: Record<string, string[] | undefined>, csrf: string | undefined): string {
  const parts: string[] = []
  for (const [name, values] of Object.entries(fields)) for (const v of values ?? []) parts.push(`${encodeURIComponent(name)}=${v}`)
  if (csrf !== undefined) parts.push(`_csrf=${encodeURIComponent(csrf)}`)
  return parts.join('&')
}

function formArbitrary (names: string[]) {
  return fc.record(Object.fromEntries(names.map((n) => [n, fc.option(encodedValue, { freq: 8, nil: undefined })])), { requiredKeys: [] }) as fc.Arbitrary<Record<string, string[] | undefined>>
}

const tokenChoice = fc.constantFrom<'valid' | 'missing' | 'wrong'>('valid', 'valid', 'valid', 'valid', 'missing', 'wrong')

interface Route {
  url: (ids: { petId: number }) => string
  fields: string[]
  as: 'anonymous' | 'staff'
  /** Submissions the route should accept, mixed in so the property also covers success. */
  valid?: fc.Arbitrary<Record<string, string>>
}

const CURRENT_PASSWORD = '\u0000current'
const petText = (max: number) => fc.stringMatching(new RegExp(`^[A-Za-z][A-Za-z ]{0,${max - 1}}$`))
const goodPassword = fc.string({ unit: 'grapheme', minLength: 12, maxLength: 40 }).map((p) => `pw ${p}`)

const routes: Record<string, Route> = {
  'POST /login': {
    url: () => '/login',
    fields: ['email', 'password', 'remember'],
    as: 'anonymous',
    valid: fc.constantFrom('on', '').map((remember) => ({ email: DEMO_STAFF.email, password: DEMO_STAFF.password, remember }))
  },
  'POST /signup': {
    url: () => '/signup',
    fields: ['fullName', 'email', 'password', 'confirmPassword'],
    as: 'anonymous',
    valid: fc.record({ fullName: petText(60), email: fc.stringMatching(/^[a-z0-9]{1,20}@[a-z]{1,10}\.(com|org|co)$/), password: goodPassword }).map((f) => ({ ...f, confirmPassword: f.password }))
  },
  'POST /logout': { url: () => '/logout', fields: ['x'], as: 'staff', valid: fc.constant({}) },
  'POST /account/password': {
    url: () => '/account/password',
    fields: ['currentPassword', 'newPassword', 'confirmPassword'],
    as: 'staff',
    valid: goodPassword.map((p) => ({ currentPassword: CURRENT_PASSWORD, newPassword: p, confirmPassword: p }))
  },
  'POST /account/sessions/end': { url: () => '/account/sessions/end', fields: ['sessionId'], as: 'staff', valid: fc.stringMatching(/^[0-9a-f]{64}$/).map((sessionId) => ({ sessionId })) },
  'POST /account/sessions/end-others': { url: () => '/account/sessions/end-others', fields: ['x'], as: 'staff', valid: fc.constant({}) },
  'POST /pets/new': { url: () => '/pets/new', fields: ['name', 'age', 'bio'], as: 'staff', valid: fc.record({ name: petText(50), age: petText(30), bio: fc.string({ maxLength: 200 }) }) },
  'POST /pets/:id': { url: ({ petId }) => `/pets/${petId}`, fields: ['name', 'age', 'bio'], as: 'staff', valid: fc.record({ name: petText(50), age: petText(30), bio: petText(200) }) },
  'POST /pets/:id/delete': { url: ({ petId }) => `/pets/${petId}/delete`, fields: ['confirm'], as: 'staff', valid: fc.constant({}) }
}

/** The staff password as the password-change route last left it. */
let staffPassword = DEMO_STAFF.password

describe('every form route, 500 random and adversarial submissions each', () => {
  for (const [name, route] of Object.entries(routes)) {
    it(`${name}: never a 5xx; the database changes only on success`, async () => {
      const staff = new TestBrowser(t.app)
      const anonymous = new TestBrowser(t.app)
      const anonymousToken = await anonymous.csrfFrom('/login')
      const anonymousCookies = new Map(anonymous.cookies)
      let staffToken = ''
      const statuses = new Map<number, number>()
      const ensureStaff = async () => {
        if (staff.cookies.has('paws_session') && (await staff.get('/account')).statusCode === 200) {
          staffToken = extractCsrf(staff.lastPage)
          return
        }
        staff.cookies.clear()
        const res = await staff.login(DEMO_STAFF.email, staffPassword)
        expect(res.statusCode).toBe(303)
        staffToken = extractCsrf((await staff.get('/account')).body)
      }
      if (route.as === 'staff') await ensureStaff()

      const encoded = route.valid === undefined
        ? formArbitrary(route.fields)
        : fc.oneof({ weight: 3, arbitrary: formArbitrary(route.fields) }, { weight: 1, arbitrary: route.valid.map((f) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, [encodeURIComponent(v)]]))) })
      await fc.assert(fc.asyncProperty(encoded, tokenChoice, async (form, token) => {
        const fields = { ...form }
        let newStaffPassword: string | undefined
        if (fields.currentPassword?.[0] === encodeURIComponent(CURRENT_PASSWORD)) {
          fields.currentPassword = [encodeURIComponent(staffPassword)]
          newStaffPassword = decodeURIComponent(fields.newPassword![0]!)
        }
        const browser = route.as === 'staff' ? staff : anonymous
        if (route.as === 'anonymous') {
          anonymous.cookies.clear()
          for (const [k, v] of anonymousCookies) anonymous.cookies.set(k, v)
        }
        const valid = route.as === 'staff' ? staffToken : anonymousToken
        const csrf = token === 'valid' ? valid : token === 'wrong' ? valid.slice(1) + 'A' : undefined
        const petId = (await t.db.kysely.selectFrom('pets').select('id').orderBy('id').executeTakeFirst())?.id ?? 1
        const before = await snapshot()
        const res = await browser.request({
          method: 'POST',
          url: route.url({ petId }),
          payload: formBody(fields, csrf),
          headers: { 'content-type': 'application/x-www-form-urlencoded' }
        })
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
        expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500)
        if (newStaffPassword !== undefined && res.statusCode === 303) staffPassword = newStaffPassword.normalize('NFC')
        if (res.statusCode !== 303) expect(await snapshot()).toBe(before)
        if (token !== 'valid') expect(res.statusCode).toBe(403)
        if (route.as === 'staff' && res.statusCode === 303) await ensureStaff()
        if (name === 'POST /pets/:id/delete' && res.statusCode === 303) {
          await t.db.kysely.insertInto('pets').values({ name: `Refill ${Date.now()}${Math.random()}`, name_key: `refill ${Date.now()}${Math.random()}`, age: '1 year', bio: '', picture: 'paw.svg', created_at: 0, updated_at: 0 }).execute()
        }
      }), { numRuns: RUNS })
      // The property covered both sides: accepted submissions and refused ones.
      expect(statuses.get(303) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(0)
      expect([...statuses.keys()].some((s) => s >= 400), JSON.stringify([...statuses])).toBe(true)
    }, 120_000)
  }
})
