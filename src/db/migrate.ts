/**
 * Applies the dated migrations in order. Safe when several processes start at once: PostgreSQL takes
 * Kysely's advisory lock; on SQLite the whole run holds the database's write lock (BEGIN IMMEDIATE).
 */
import { type Kysely, type Migration, type MigrationResultSet, Migrator, sql } from 'kysely'
import type { Db } from './connect.js'
import type { Database } from './schema.js'
import * as initial from './migrations/2026-11-25T1200-initial.js'
import * as throttleCounters from './migrations/2026-11-25T1800-throttle-counters.js'
import * as mailAndLinks from './migrations/2026-12-04T1200-mail-and-links.js'
import * as twoFactor from './migrations/2026-12-04T1300-two-factor.js'
import * as peoplePages from './migrations/2026-12-04T1400-people-pages.js'
import * as passkeys from './migrations/2026-12-04T1500-passkeys.js'

export const migrations: Record<string, Migration> = {
  '2026-11-25T1200-initial': initial,
  '2026-11-25T1800-throttle-counters': throttleCounters,
  '2026-12-04T1200-mail-and-links': mailAndLinks,
  '2026-12-04T1300-two-factor': twoFactor,
  '2026-12-04T1400-people-pages': peoplePages,
  '2026-12-04T1500-passkeys': passkeys
}

function migrator (kysely: Kysely<any>): Migrator {
  return new Migrator({ db: kysely, provider: { getMigrations: async () => migrations } })
}

type Direction = 'latest' | 'down'

async function run (db: Db, direction: Direction): Promise<MigrationResultSet> {
  const go = (m: Migrator) => direction === 'latest' ? m.migrateToLatest() : m.migrateDown()
  if (db.dialect === 'postgres') return await go(migrator(db.kysely))
  return await db.kysely.connection().execute(async (conn: Kysely<Database>) => {
    await sql`begin immediate`.execute(conn)
    try {
      const result = await go(migrator(conn))
      await sql`commit`.execute(conn)
      return result
    } catch (error) {
      await sql`rollback`.execute(conn)
      throw error
    }
  })
}

/** Returns the names of the migrations applied by this call. */
export async function migrateToLatest (db: Db): Promise<string[]> {
  return unwrap(await run(db, 'latest'))
}

export async function migrateDown (db: Db): Promise<string[]> {
  return unwrap(await run(db, 'down'))
}

function unwrap ({ error, results }: MigrationResultSet): string[] {
  if (error !== undefined) throw error instanceof Error ? error : new Error(String(error))
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}
