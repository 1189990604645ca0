/**
 * The pet list every home page shows, read from the database once and kept until the database changes.
 *
 * The kept list is used only while the database's change mark is the same (src/db/change-signal.ts): any
 * write, by this process or another (a cluster worker, a second instance, the CLI), makes the next call
 * read the list again, so the list shown is never older than the last commit.
 */
import { keptWhileUnchanged } from '../db/change-signal.js'
import type { Db } from '../db/connect.js'
import { listPets } from '../db/queries/pets.js'
import type { Pet } from '../db/schema.js'

export interface PetCatalog {
  /** Every pet, oldest first. The array is shared between callers until the data changes: never modify it. */
  list: () => Promise<readonly Pet[]>
}

export function createPetCatalog (db: Db): PetCatalog {
  const kept = keptWhileUnchanged<readonly Pet[]>(db.changes, 1)
  return { list: async () => await kept('pets', async () => Object.freeze(await listPets(db.kysely))) }
}
