/**
 * Queries compiled once (src/db/precompiled.ts), on the database this project runs with. Writes report
 * what Kysely reports, and a write made while another request's transaction is open never joins it: on
 * SQLite that transaction holds the one connection, so the write waits for Kysely's path.
 */
import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type Db } from '../../src/db/connect.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { precompiled } from '../../src/db/precompiled.js'
import type { Database } from '../../src/db/schema.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

type Q = Kysely<Database>

let database: TestDatabase
let db: Db

beforeAll(async () => {
  database = await createTestDatabase()
  db = connect(database.url.startsWith('postgres')
    ? { kind: 'postgres', url: database.url, poolSize: 4 }
    : { kind: 'sqlite', file: database.url })
  await migrateToLatest(db)
})
afterAll(async () => {
  await db.close()
  await database.drop()
})

const insertPetRow = precompiled((q: Q, name: string, age: string, bio: string, picture: string, now: number) => q.insertInto('pets').values({
  name, name_key: name, age, bio, picture, created_at: now, updated_at: now
}))
const insertPet = async (q: Q, name: string, now: number) => await insertPetRow(q, name, '2 years', 'Compiled once.', 'nelly.svg', now)
const renamePets = precompiled((q: Q, bio: string, prefix: string) => q.updateTable('pets').set({ bio }).where('name', 'like', prefix))
const deletePets = precompiled((q: Q, prefix: string) => q.deleteFrom('pets').where('name', 'like', prefix))
const petNamed = precompiled((q: Q, name: string) => q.selectFrom('pets').select(['name', 'bio']).where('name', '=', name))

async function names (prefix: string): Promise<string[]> {
  const rows = await db.kysely.selectFrom('pets').select('name').where('name', 'like', `${prefix}%`).orderBy('name').execute()
  return rows.map((row) => row.name)
}

describe('precompiled statements', () => {
  it('insert, update, delete and select, with the counts Kysely reports', async () => {
    const inserted = await insertPet(db.kysely, 'Pre One', 1)
    expect(inserted.numAffectedRows).toBe(1n)
    expect(inserted.rows).toEqual([])
    await insertPet(db.kysely, 'Pre Two', 2)
    expect((await renamePets(db.kysely, 'Renamed.', 'Pre %')).numAffectedRows).toBe(2n)
    expect((await petNamed(db.kysely, 'Pre Two')).rows).toEqual([{ name: 'Pre Two', bio: 'Renamed.' }])
    expect((await deletePets(db.kysely, 'Pre %')).numAffectedRows).toBe(2n)
    expect(await names('Pre ')).toEqual([])
  })

  it('a write from outside an open transaction does not join it, and is kept when it rolls back', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    let begun!: () => void
    const inside = new Promise<void>((resolve) => { begun = resolve })
    const transaction = db.kysely.transaction().execute(async (trx) => {
      await insertPet(trx, 'Tx Inside', 3)
      begun()
      await held
      throw new Error('rolled back on purpose')
    })
    await inside
    const outside = insertPet(db.kysely, 'Tx Outside', 4)
    release()
    await expect(transaction).rejects.toThrow('rolled back on purpose')
    await outside
    expect(await names('Tx ')).toEqual(['Tx Outside'])
    await deletePets(db.kysely, 'Tx %')
  })

  it('inside a transaction handle, the write belongs to that transaction', async () => {
    await expect(db.kysely.transaction().execute(async (trx) => {
      await insertPet(trx, 'Trx Only', 5)
      expect((await petNamed(trx, 'Trx Only')).rows).toHaveLength(1)
      throw new Error('undo')
    })).rejects.toThrow('undo')
    expect(await names('Trx ')).toEqual([])
  })

  it('refuses what is not one statement with every value a parameter', async () => {
    const schemaChange = precompiled((q: Q) => q.schema.createTable('never_made').addColumn('id', 'integer'))
    await expect(schemaChange(db.kysely)).rejects.toThrow('precompiled queries are single statements, not CreateTableNode')
    const constant = precompiled((q: Q) => q.selectFrom('pets').select('name').where('age', '=', '2 years'))
    await expect(constant(db.kysely)).rejects.toThrow('precompiled queries take every value as a parameter')
  })
})
