/** Migrations are reversible: down removes every table, up restores them, on each database. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type Db } from '../../src/db/connect.js'
import { migrateDown, migrateToLatest, migrations } from '../../src/db/migrate.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { loadConfig } from '../../src/config.js'

let database: TestDatabase
let db: Db
beforeAll(async () => {
  database = await createTestDatabase()
  db = connect(loadConfig({ DATABASE_URL: database.url }).database)
})
afterAll(async () => {
  await db.close()
  await database.drop()
})

async function appTables (): Promise<string[]> {
  const tables = await db.kysely.introspection.getTables()
  return tables.map((t) => t.name).filter((name) => !name.startsWith('kysely_')).sort()
}

describe('migrations', () => {
  it('apply in order, undo one by one, and apply again', async () => {
    const names = Object.keys(migrations)
    expect(names).toEqual([...names].sort())
    expect(await migrateToLatest(db)).toEqual(names)
    expect(await migrateToLatest(db)).toEqual([])
    expect(await appTables()).toEqual(expect.arrayContaining(['account_events', 'app_meta', 'pets', 'sessions', 'users']))
    for (const name of [...names].reverse()) expect(await migrateDown(db)).toEqual([name])
    expect(await appTables()).toEqual([])
    expect(await migrateToLatest(db)).toEqual(names)
    await db.kysely.insertInto('users').values({ email: 'again@example.com', full_name: 'Again', password_hash: 'x', role: 'adopter', created_at: 1 }).execute()
    await expect(db.kysely.insertInto('users').values({ email: 'again@example.com', full_name: 'Twice', password_hash: 'x', role: 'adopter', created_at: 2 }).execute()).rejects.toThrow()
  })
})
