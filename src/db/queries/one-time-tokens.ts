/** The links sent by email, by the SHA-256 of their token. A link is taken (deleted) in the statement that reads it. */
import type { Kysely } from 'kysely'
import type { Database, OneTimeToken, OneTimeTokenPurpose } from '../schema.js'

type Q = Kysely<Database>

export async function insertOneTimeToken (db: Q, row: OneTimeToken): Promise<void> {
  await db.insertInto('one_time_tokens').values(row).execute()
}

/** The link if it is known, of one of these purposes and not expired; it stays usable. */
export async function findLiveToken (db: Q, id: string, purposes: readonly OneTimeTokenPurpose[], now: number): Promise<OneTimeToken | undefined> {
  return await db.selectFrom('one_time_tokens').selectAll()
    .where('id', '=', id).where('purpose', 'in', purposes).where('expires_at', '>', now)
    .executeTakeFirst()
}

/** Deletes and returns the link if it is live: of two requests racing with one link, one gets it. */
export async function takeLiveToken (db: Q, id: string, purposes: readonly OneTimeTokenPurpose[], now: number): Promise<OneTimeToken | undefined> {
  return await db.deleteFrom('one_time_tokens')
    .where('id', '=', id).where('purpose', 'in', purposes).where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst()
}

export async function deleteUserTokens (db: Q, userId: number, purposes: readonly OneTimeTokenPurpose[]): Promise<number> {
  const result = await db.deleteFrom('one_time_tokens').where('user_id', '=', userId).where('purpose', 'in', purposes).executeTakeFirst()
  return Number(result.numDeletedRows)
}

/** The address of the newest live email-change link, if any: the change the owner is waiting to confirm. */
export async function pendingEmailChange (db: Q, userId: number, now: number): Promise<string | undefined> {
  const row = await db.selectFrom('one_time_tokens').select('email')
    .where('user_id', '=', userId).where('purpose', '=', 'email_change').where('expires_at', '>', now)
    .orderBy('created_at', 'desc').limit(1)
    .executeTakeFirst()
  return row?.email
}

export async function deleteExpiredTokens (db: Q, now: number): Promise<number> {
  const result = await db.deleteFrom('one_time_tokens').where('expires_at', '<=', now).executeTakeFirst()
  return Number(result.numDeletedRows)
}
