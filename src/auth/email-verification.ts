/**
 * Confirming an address, and changing it. A confirmation link is mailed at sign-up, on request from the
 * account page (within an hourly cap) and to a new address the owner asked for; it is valid for 24 hours
 * and confirms only the address it was sent to. Opening a link changes nothing (mail scanners open
 * links); the confirmation is a POST. A change takes effect only when the new address confirms it; then
 * every other link and every other session of the account ends, and the old address is told.
 */
import type { Kysely } from 'kysely'
import { isUniqueViolation } from '../db/connect.js'
import { recordEvent } from '../db/queries/events.js'
import { deleteUserTokens } from '../db/queries/one-time-tokens.js'
import { deleteUserSessions } from '../db/queries/sessions.js'
import { findUserByEmail, findUserById } from '../db/queries/users.js'
import type { Database, OneTimeToken, User } from '../db/schema.js'
import { confirmEmailMail } from '../mail/messages/confirm-email.js'
import { emailChangedMail, emailChangeRequestedMail } from '../mail/messages/notices.js'
import { enqueueMail } from '../mail/outbox.js'
import { type AccountMailDeps, type Requester, verifyLink } from './account-mail.js'
import { findLinkToken, issueLinkToken, takeLinkToken } from './one-time-tokens.js'
import type { Verdict } from './throttle.js'

const CONFIRMATION_PURPOSES = ['email_verification', 'email_change'] as const

/** Issues a confirmation link for the account's own address and enqueues its email, in the caller's transaction. */
export async function enqueueConfirmation (deps: AccountMailDeps, trx: Kysely<Database>, user: Pick<User, 'id' | 'email' | 'full_name'>, now: number): Promise<void> {
  const token = await issueLinkToken(trx, { userId: user.id, purpose: 'email_verification', email: user.email, ttlMs: deps.config.recovery.emailVerificationTtlMs, now })
  await enqueueMail(trx, { userId: user.id, address: user.email }, confirmEmailMail({ name: user.full_name, link: verifyLink(deps.config, token), change: false }), now)
}

/** Mails a new confirmation link, within the account's hourly cap; 'confirmed' when there is nothing to confirm. */
export async function resendConfirmation (deps: AccountMailDeps, userId: number): Promise<Verdict | 'confirmed'> {
  const { db, clock, outbox, throttle } = deps
  const user = await findUserById(db.kysely, userId)
  if (user === undefined || user.email_verified_at !== null) return 'confirmed'
  const verdict = await throttle.takeVerificationEmail(user.id)
  if (!verdict.allowed) return verdict
  await db.kysely.transaction().execute(async (trx) => { await enqueueConfirmation(deps, trx, user, clock()) })
  outbox.kick()
  return verdict
}

export interface ConfirmationLink {
  link: OneTimeToken
  change: boolean
}

export async function findConfirmationLink (deps: AccountMailDeps, token: string): Promise<ConfirmationLink | undefined> {
  const link = await findLinkToken(deps.db.kysely, token, CONFIRMATION_PURPOSES, deps.clock())
  return link === undefined ? undefined : { link, change: link.purpose === 'email_change' }
}

export type ConfirmOutcome =
  | { ok: true, userId: number, changed: boolean }
  | { ok: false, reason: 'invalid' | 'email-taken' }

/**
 * Uses the link up and confirms its address. For a change, the address becomes the account's and every
 * session but `keepSessionId` (the browser that confirmed, when it is signed in to this account) ends.
 */
export async function confirmEmail (deps: AccountMailDeps, token: string, who: Requester, keepSessionId: string | null): Promise<ConfirmOutcome> {
  const { db, clock, config, outbox } = deps
  try {
    const outcome = await db.kysely.transaction().execute(async (trx): Promise<ConfirmOutcome> => {
      const now = clock()
      const link = await takeLinkToken(trx, token, CONFIRMATION_PURPOSES, now)
      const user = link === undefined ? undefined : await findUserById(trx, link.user_id)
      if (link === undefined || user === undefined) return { ok: false, reason: 'invalid' }
      if (link.purpose === 'email_verification') {
        // A link for an address the account no longer has confirms nothing.
        if (link.email !== user.email) return { ok: false, reason: 'invalid' }
        if (user.email_verified_at === null) await trx.updateTable('users').set({ email_verified_at: now }).where('id', '=', user.id).execute()
        await deleteUserTokens(trx, user.id, ['email_verification'])
        await recordEvent(trx, user.id, 'email_verified', { ...who, now })
        return { ok: true, userId: user.id, changed: false }
      }
      await trx.updateTable('users').set({ email: link.email, email_verified_at: now }).where('id', '=', user.id).execute()
      await deleteUserTokens(trx, user.id, ['password_reset', 'email_verification', 'email_change'])
      await deleteUserSessions(trx, user.id, keepSessionId ?? undefined)
      await recordEvent(trx, user.id, 'email_changed', { ...who, now })
      await enqueueMail(trx, { userId: user.id, address: user.email }, emailChangedMail({ name: user.full_name, newEmail: link.email, publicUrl: config.publicUrl }), now)
      return { ok: true, userId: user.id, changed: true }
    })
    if (outcome.ok && outcome.changed) outbox.kick()
    return outcome
  } catch (error) {
    // Another account took the address between the request and the confirmation: nothing changed.
    if (isUniqueViolation(error)) return { ok: false, reason: 'email-taken' }
    throw error
  }
}

export type EmailChangeOutcome =
  | { ok: true }
  | { ok: false, field: 'newEmail' | 'password', message: string }
  | { ok: false, throttled: Extract<Verdict, { allowed: false }> }

export const EMAIL_TAKEN = 'An account with this email already exists.'
export const WRONG_CURRENT_PASSWORD = 'That is not your current password.'

/**
 * Asks to move the account to `newEmail`: the password must be right; the new address gets a link and
 * the current one a notice. Nothing about the account changes until the link is followed.
 */
export async function requestEmailChange (deps: AccountMailDeps, userId: number, newEmail: string, password: string, who: Requester): Promise<EmailChangeOutcome> {
  const { db, clock, config, outbox, throttle, hasher } = deps
  const user = await findUserById(db.kysely, userId)
  if (user === undefined || !await hasher.verify(user.password_hash, password)) return { ok: false, field: 'password', message: WRONG_CURRENT_PASSWORD }
  if (newEmail === user.email) return { ok: false, field: 'newEmail', message: 'That is already your email address.' }
  if (await findUserByEmail(db.kysely, newEmail) !== undefined) return { ok: false, field: 'newEmail', message: EMAIL_TAKEN }
  const verdict = await throttle.takeVerificationEmail(user.id)
  if (!verdict.allowed) return { ok: false, throttled: verdict }
  await db.kysely.transaction().execute(async (trx) => {
    const now = clock()
    // One change waits at a time: an earlier link to another address dies.
    await deleteUserTokens(trx, user.id, ['email_change'])
    const token = await issueLinkToken(trx, { userId: user.id, purpose: 'email_change', email: newEmail, ttlMs: config.recovery.emailVerificationTtlMs, now })
    await enqueueMail(trx, { userId: user.id, address: newEmail }, confirmEmailMail({ name: user.full_name, link: verifyLink(config, token), change: true }), now)
    await enqueueMail(trx, { userId: user.id, address: user.email }, emailChangeRequestedMail({ name: user.full_name, newEmail, publicUrl: config.publicUrl }), now)
    await recordEvent(trx, user.id, 'email_change_requested', { ...who, now })
  })
  outbox.kick()
  return { ok: true }
}
