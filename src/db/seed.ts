/**
 * Demo data for development: four pets and the rescue team's staff account. Added at most once per
 * database, however many processes start together: a marker row is claimed in the same transaction
 * (its primary key makes every other claimant wait, then find it taken).
 */
import type { PasswordHasher } from '../auth/passwords.js'
import type { Db } from './connect.js'

export const DEMO_STAFF = { email: 'team@pawsrescue.co', password: 'adminpass', fullName: 'Pet Rescue Team' } as const

export const DEMO_PETS = [
  { name: 'Nelly', age: '5 weeks', bio: 'I am a tiny kitten rescued by the good people at Paws Rescue Center. I love squeaky toys and cuddles.', picture: 'nelly.svg' },
  { name: 'Yuki', age: '8 months', bio: 'I am a handsome gentle-cat. I like to dress up in bow ties.', picture: 'yuki.svg' },
  { name: 'Basker', age: '1 year', bio: 'I love barking. But, I love my friends more.', picture: 'basker.svg' },
  { name: 'Mr. Furrkins', age: '5 years', bio: 'Probably napping.', picture: 'mr-furrkins.svg' }
] as const

const MARKER = 'demo-data'

/** Returns true when this call added the demo data, false when it was there already or the database is in use. */
export async function seedDemoData (db: Db, hasher: PasswordHasher, now: number): Promise<boolean> {
  const marked = await db.kysely.selectFrom('app_meta').select('key').where('key', '=', MARKER).executeTakeFirst()
  if (marked !== undefined) return false
  // Hash before the transaction: a slow hash must not hold the database's write lock.
  const passwordHash = await hasher.hash(DEMO_STAFF.password)
  return await db.kysely.transaction().execute(async (trx) => {
    const claimed = await trx.insertInto('app_meta').values({ key: MARKER, value: String(now) })
      .onConflict((oc) => oc.column('key').doNothing()).executeTakeFirst()
    if (Number(claimed.numInsertedOrUpdatedRows ?? 0n) === 0) return false
    const used = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst() ??
      await trx.selectFrom('pets').select('id').limit(1).executeTakeFirst()
    if (used !== undefined) return false
    await trx.insertInto('users').values({
      email: DEMO_STAFF.email, full_name: DEMO_STAFF.fullName, name_key: DEMO_STAFF.fullName.toLowerCase(), password_hash: passwordHash, role: 'staff', created_at: now, email_verified_at: now
    }).execute()
    await trx.insertInto('pets').values(DEMO_PETS.map((pet, i) => ({
      ...pet, name_key: pet.name.toLowerCase(), created_at: now + i, updated_at: now + i
    }))).execute()
    return true
  })
}
