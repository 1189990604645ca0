/** Pet rows, newest last; the lower-cased name key keeps names unique whatever their case. */
import type { Kysely } from 'kysely'
import { precompiled } from '../precompiled.js'
import type { Database, Pet } from '../schema.js'

type Q = Kysely<Database>

export interface PetFields {
  name: string
  age: string
  bio: string
}

/** Runs on every view of the home page: compiled once (precompiled). */
const selectPets = precompiled((db: Q) => db.selectFrom('pets').selectAll().orderBy('id'))

export async function listPets (db: Q): Promise<Pet[]> {
  return (await selectPets(db)).rows
}

export async function findPet (db: Q, id: number): Promise<Pet | undefined> {
  return await db.selectFrom('pets').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function insertPet (db: Q, fields: PetFields & { picture: string }, now: number): Promise<Pet> {
  return await db.insertInto('pets')
    .values({ ...fields, name_key: fields.name.toLowerCase(), created_at: now, updated_at: now })
    .returningAll().executeTakeFirstOrThrow()
}

export async function updatePet (db: Q, id: number, fields: PetFields, now: number): Promise<boolean> {
  const result = await db.updateTable('pets')
    .set({ ...fields, name_key: fields.name.toLowerCase(), updated_at: now })
    .where('id', '=', id).executeTakeFirst()
  return result.numUpdatedRows > 0n
}

export async function deletePet (db: Q, id: number): Promise<boolean> {
  const result = await db.deleteFrom('pets').where('id', '=', id).executeTakeFirst()
  return result.numDeletedRows > 0n
}
