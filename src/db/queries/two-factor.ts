/** Two-factor rows: the user's secret columns, recovery codes (by hash) and pending logins (by the hash of their token). */
import type { Kysely } from 'kysely'
import type { Database, PendingLogin } from '../schema.js'

type Q = Kysely<Database>

export async function setPendingSecret (db: Q, userId: number, sealed: string | null): Promise<void> {
  await db.updateTable('users').set({ two_factor_pending_secret: sealed }).where('id', '=', userId).execute()
}

export async function enableTwoFactor (db: Q, userId: number, sealedSecret: string, step: number, now: number): Promise<void> {
  await db.updateTable('users')
    .set({ two_factor_secret: sealedSecret, two_factor_pending_secret: null, two_factor_enabled_at: now, two_factor_last_step: step })
    .where('id', '=', userId).execute()
}

export async function disableTwoFactor (db: Q, userId: number): Promise<void> {
  await db.updateTable('users')
    .set({ two_factor_secret: null, two_factor_pending_secret: null, two_factor_enabled_at: null, two_factor_last_step: null })
    .where('id', '=', userId).execute()
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
}

/** Records that a code of `step` was used, unless one of this step or a later one was: true when this call won. */
export async function claimTotpStep (db: Q, userId: number, step: number): Promise<boolean> {
  const result = await db.updateTable('users').set({ two_factor_last_step: step })
    .where('id', '=', userId).where('two_factor_enabled_at', 'is not', null)
    .where((eb) => eb.or([eb('two_factor_last_step', 'is', null), eb('two_factor_last_step', '<', step)]))
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

export async function replaceRecoveryCodes (db: Q, userId: number, hashes: string[], now: number): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
  await db.insertInto('recovery_codes').values(hashes.map((hash) => ({ code_hash: hash, user_id: userId, created_at: now }))).execute()
}

/** Deletes the code if it is one of the user's: true when it was (and so is now used up). */
export async function useRecoveryCode (db: Q, userId: number, hash: string): Promise<boolean> {
  const result = await db.deleteFrom('recovery_codes').where('user_id', '=', userId).where('code_hash', '=', hash).executeTakeFirst()
  return result.numDeletedRows > 0n
}

export async function countRecoveryCodes (db: Q, userId: number): Promise<number> {
  const row = await db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()
  return Number(row.n)
}

export async function insertPendingLogin (db: Q, row: PendingLogin): Promise<void> {
  await db.insertInto('pending_logins').values(row).execute()
}

export async function findPendingLogin (db: Q, id: string, now: number): Promise<PendingLogin | undefined> {
  return await db.selectFrom('pending_logins').selectAll().where('id', '=', id).where('expires_at', '>', now).executeTakeFirst()
}

/** Counts a wrong code; returns the failures so far, or null when the pending login is gone. */
export async function countPendingFailure (db: Q, id: string): Promise<number | null> {
  const row = await db.updateTable('pending_logins').set((eb) => ({ failures: eb('failures', '+', 1) }))
    .where('id', '=', id).returning('failures').executeTakeFirst()
  return row?.failures ?? null
}

/** Ends the pending login; true when this call ended it (of two racing requests, one completes the login). */
export async function deletePendingLogin (db: Q, id: string): Promise<boolean> {
  const result = await db.deleteFrom('pending_logins').where('id', '=', id).executeTakeFirst()
  return result.numDeletedRows > 0n
}

export async function deleteExpiredPendingLogins (db: Q, now: number): Promise<number> {
  const result = await db.deleteFrom('pending_logins').where('expires_at', '<=', now).executeTakeFirst()
  return Number(result.numDeletedRows)
}
