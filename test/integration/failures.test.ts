/** When the database fails: an HTML 500 page with no internals (details in the log), and a 503 health check. */
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/app.js'

let t: TestApp
beforeAll(async () => { t = await createTestApp() })
afterAll(async () => { await t.close() })

describe('failures', () => {
  it('an unexpected error gives the HTML 500 page without internals; the stack goes to the log only', async () => {
    expect((await t.app.inject('/')).statusCode).toBe(200)
    await sql`drop table pets`.execute(t.db.kysely)
    const res = await t.app.inject('/')
    expect(res.statusCode).toBe(500)
    expect(res.headers['content-type']).toContain('text/html')
    expect(res.body).toContain('Sorry, something went wrong on our side.')
    expect(res.body).not.toMatch(/pets|sqlite|postgres|at \w+ \(|Error:/i)
    const logged = t.logs.find((l) => l.includes('unhandled error'))
    expect(logged).toMatch(/"stack":/)
    expect(logged).toContain('"reqId"')
  })

  it('GET /healthz answers 503 when the database does not', async () => {
    await sql`drop table app_meta`.execute(t.db.kysely)
    const res = await t.app.inject('/healthz')
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({ status: 'unavailable' })
  })
})
