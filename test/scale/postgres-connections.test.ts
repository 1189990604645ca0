/**
 * The PostgreSQL server ends the app's idle pooled connections (a restart, an administrator): the app logs
 * one short warning for each, without the connection's internals, and answers the next request on new ones.
 */
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/app.js'

let t: TestApp
beforeAll(async () => { t = await createTestApp({ dialect: 'postgres' }) })
afterAll(async () => { await t.close() })

describe('idle PostgreSQL connections ended by the server', () => {
  it('are logged in one short line each, and the next request is answered', async () => {
    expect((await t.app.inject('/')).statusCode).toBe(200)
    const { rows } = await sql<{ ended: number }>`
      with idle as materialized (
        select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state = 'idle'
      )
      select count(*) filter (where pg_terminate_backend(pid))::int as ended from idle`.execute(t.db.kysely)
    const ended = rows[0]!.ended
    expect(ended).toBeGreaterThan(0)

    const warnings = () => t.logs.filter((line) => line.includes('idle database connection lost'))
    await vi.waitFor(() => { expect(warnings().length).toBeGreaterThan(0) }, { timeout: 5_000, interval: 20 })
    for (const line of warnings()) {
      expect(line).toContain('57P01')
      expect(line).toContain('terminating connection due to administrator command')
      expect(line).not.toContain('connectionParameters')
      expect(line.length).toBeLessThan(2_000)
    }
    expect((await t.app.inject('/')).statusCode).toBe(200)
  })
})
