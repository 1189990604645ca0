/** Passkey rows (by account and by credential id) and the WebAuthn challenges waiting for an answer (by the hash of their token). */
import type { Kysely } from 'kysely'
import type { Database, NewPasskey, Passkey, WebAuthnPurpose } from '../schema.js'

type Q = Kysely<Database>

export async function listPasskeys (db: Q, userId: number): Promise<Passkey[]> {
  return await db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('id').execute()
}

export async function findPasskeyByCredentialId (db: Q, credentialId: string): Promise<Passkey | undefined> {
  return await db.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst()
}

export async function insertPasskey (db: Q, row: NewPasskey): Promise<Passkey> {
  return await db.insertInto('passkeys').values(row).returningAll().executeTakeFirstOrThrow()
}

/** Records a use: the new counter, unless another use got there first (true when this call won). */
export async function usePasskey (db: Q, id: number, previousCounter: number, counter: number, now: number): Promise<boolean> {
  const result = await db.updateTable('passkeys').set({ counter, last_used_at: now })
    .where('id', '=', id).where('counter', '=', previousCounter).executeTakeFirst()
  return result.numUpdatedRows > 0n
}

export async function renamePasskey (db: Q, userId: number, id: number, name: string): Promise<Passkey | undefined> {
  return await db.updateTable('passkeys').set({ name }).where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst()
}

/** Deletes one of the account's passkeys; returns it, or undefined when it was not the account's (or was gone). */
export async function deletePasskey (db: Q, userId: number, id: number): Promise<Passkey | undefined> {
  return await db.deleteFrom('passkeys').where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst()
}

export async function insertChallenge (db: Q, row: { id: string, purpose: WebAuthnPurpose, user_id: number | null, challenge: string, created_at: number, expires_at: number }): Promise<void> {
  await db.insertInto('webauthn_challenges').values(row).execute()
}

/**
 * Takes a live challenge for `purpose` (and, for a registration, the account): it is deleted by the same
 * statement that reads it, so of two requests with one token only one gets it.
 */
export async function takeChallenge (db: Q, id: string, purpose: WebAuthnPurpose, userId: number | null, now: number): Promise<string | undefined> {
  let query = db.deleteFrom('webauthn_challenges').where('id', '=', id).where('purpose', '=', purpose).where('expires_at', '>', now)
  query = userId === null ? query.where('user_id', 'is', null) : query.where('user_id', '=', userId)
  const row = await query.returning('challenge').executeTakeFirst()
  return row?.challenge
}

export async function deleteExpiredChallenges (db: Q, now: number): Promise<number> {
  const result = await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', now).executeTakeFirst()
  return Number(result.numDeletedRows)
}
