/**
 * The database's change mark (src/db/change-signal.ts), on the database this project runs with: the
 * SQLite file's WAL-index header and total_changes(), or PostgreSQL's current snapshot. Two connections to
 * one database stand for two processes. (On PostgreSQL other databases on the same server move the mark
 * too, so only "it moved" is asserted there, never "it stayed".)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChangeSignal, keptWhileUnchanged } from '../../src/db/change-signal.js'
import { connect, type Db } from '../../src/db/connect.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

let database: TestDatabase
let ours: Db
let theirs: Db
let signal: ChangeSignal

beforeAll(async () => {
  database = await createTestDatabase()
  const config = database.url.startsWith('postgres')
    ? { kind: 'postgres' as const, url: database.url, poolSize: 4 }
    : { kind: 'sqlite' as const, file: database.url }
  ours = connect(config)
  await migrateToLatest(ours)
  theirs = connect(config)
  signal = ours.changes!
})
afterAll(async () => {
  await ours.close()
  await theirs.close()
  await database.drop()
})

let names = 0
async function addPet (db: Db['kysely']): Promise<string> {
  const now = Date.now()
  const name = `Mark Tester ${++names}`
  await db.insertInto('pets').values({ name, name_key: name.toLowerCase(), age: '1 year', bio: 'Moves marks.', picture: 'nelly.svg', created_at: now, updated_at: now }).execute()
  return name
}

/** The mark as a request sees it: read after the request began. */
async function markOfNewRequest (): Promise<number> {
  signal.refresh()
  return await signal.mark()
}

describe('the change mark', () => {
  it('exists on both databases', () => {
    expect(ours.changes).not.toBeNull()
  })

  it('moves with another process\'s commit, seen by the next request', async () => {
    const before = await markOfNewRequest()
    await addPet(theirs.kysely)
    expect(await markOfNewRequest()).not.toBe(before)
  })

  it('moves at once with this process\'s own write, within the same request', async () => {
    const before = await markOfNewRequest()
    await addPet(ours.kysely)
    expect(await signal.mark()).not.toBe(before)
  })

  it('never serves, once this process commits, a value kept while its transaction was open', async () => {
    const kept = keptWhileUnchanged<string[]>(signal, 10)
    const petNames = async () => await kept('names', async () => (await ours.kysely.selectFrom('pets').select('name').execute()).map((p) => p.name))
    const trx = await ours.kysely.startTransaction().execute()
    const name = await addPet(trx)
    // A concurrent request fills the cache meanwhile: on PostgreSQL at once, from another pooled connection,
    // without the uncommitted row; on SQLite its read waits for the transaction's connection.
    const whileOpen = petNames()
    if (ours.dialect === 'postgres') expect(await whileOpen).not.toContain(name)
    await trx.commit().execute()
    await whileOpen
    expect(await petNames()).toContain(name)
  })

  it('moves when another process commits a transaction it had begun before the mark was read', async () => {
    const trx = await theirs.kysely.startTransaction().execute()
    try {
      await addPet(trx)
      const before = await markOfNewRequest()
      await trx.commit().execute()
      expect(await markOfNewRequest()).not.toBe(before)
    } catch (error) {
      await trx.rollback().execute()
      throw error
    }
  })
})
