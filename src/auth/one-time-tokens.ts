/**
 * The tokens that emailed links carry (password reset, address confirmation and change) are treated like
 * session tokens: 256 random bits, sent once (in the email) and stored only as their SHA-256, single use
 * (taken by the statement that deletes them) and short-lived. A value that is not of our format is
 * refused before any query.
 */
import type { Kysely } from 'kysely'
import { findLiveToken, insertOneTimeToken, takeLiveToken } from '../db/queries/one-time-tokens.js'
import type { Database, OneTimeToken, OneTimeTokenPurpose } from '../db/schema.js'
import { hashToken, looksLikeToken, newToken } from './tokens.js'

type Q = Kysely<Database>

export interface NewLinkToken {
  userId: number
  purpose: OneTimeTokenPurpose
  /** The address the link goes to. */
  email: string
  ttlMs: number
  now: number
}

/** Stores the token's hash (in the caller's transaction, with the message that carries it) and returns the token. */
export async function issueLinkToken (db: Q, link: NewLinkToken): Promise<string> {
  const token = newToken()
  await insertOneTimeToken(db, {
    id: hashToken(token), user_id: link.userId, purpose: link.purpose, email: link.email, created_at: link.now, expires_at: link.now + link.ttlMs
  })
  return token
}

/** The live link for a token, left usable (a page that shows a form first). */
export async function findLinkToken (db: Q, token: string, purposes: readonly OneTimeTokenPurpose[], now: number): Promise<OneTimeToken | undefined> {
  return looksLikeToken(token) ? await findLiveToken(db, hashToken(token), purposes, now) : undefined
}

/** Uses the link up: returns it if it was live, and it is gone for every later request. */
export async function takeLinkToken (db: Q, token: string, purposes: readonly OneTimeTokenPurpose[], now: number): Promise<OneTimeToken | undefined> {
  return looksLikeToken(token) ? await takeLiveToken(db, hashToken(token), purposes, now) : undefined
}
