/**
 * Forgotten passwords (OWASP Forgot Password cheat sheet). A request mails a single-use link, valid for
 * PASSWORD_RESET_TTL_MINUTES, to the account's address, and nothing to an unknown one; at most a few
 * such emails an account an hour. Using the link sets the password, ends every session of the account,
 * kills every other reset link, clears the login lock and mails a notice; it does not sign anyone in.
 * A suspended account is sent nothing and its links do nothing.
 */
import { enqueueMail } from '../mail/outbox.js'
import { passwordResetMail } from '../mail/messages/password-reset.js'
import { passwordChangedMail } from '../mail/messages/notices.js'
import { recordEvent } from '../db/queries/events.js'
import { deleteUserTokens } from '../db/queries/one-time-tokens.js'
import { deleteUserSessions } from '../db/queries/sessions.js'
import { findUserByEmail, findUserById } from '../db/queries/users.js'
import type { OneTimeToken } from '../db/schema.js'
import { type AccountMailDeps, type Requester, resetLink } from './account-mail.js'
import { findLinkToken, issueLinkToken, takeLinkToken } from './one-time-tokens.js'

export type ResetRequestOutcome = 'sent' | 'unknown-email' | 'capped' | 'suspended'

/** Mails a reset link if the address has an account and its hourly cap allows. The caller answers the same in every case. */
export async function requestPasswordReset (deps: AccountMailDeps, email: string, who: Requester): Promise<ResetRequestOutcome> {
  const { db, clock, config, outbox, throttle } = deps
  const user = await findUserByEmail(db.kysely, email)
  if (user === undefined) return 'unknown-email'
  // A suspended account gets no link: the team restores it first.
  if (user.suspended_at !== null) return 'suspended'
  if (!(await throttle.takeResetEmail(user.id)).allowed) return 'capped'
  await db.kysely.transaction().execute(async (trx) => {
    const now = clock()
    const token = await issueLinkToken(trx, { userId: user.id, purpose: 'password_reset', email: user.email, ttlMs: config.recovery.passwordResetTtlMs, now })
    const message = passwordResetMail({ name: user.full_name, link: resetLink(config, token), validMinutes: Math.round(config.recovery.passwordResetTtlMs / 60_000) })
    await enqueueMail(trx, { userId: user.id, address: user.email }, message, now)
    await recordEvent(trx, user.id, 'password_reset_requested', { ...who, now })
  })
  outbox.kick()
  return 'sent'
}

export async function findResetLink (deps: AccountMailDeps, token: string): Promise<OneTimeToken | undefined> {
  return await findLinkToken(deps.db.kysely, token, ['password_reset'], deps.clock())
}

/**
 * Sets the new password if the link is still live, and uses the link up. The hash is computed first (it
 * takes a while), then one transaction takes the link and makes every change with its notice.
 */
export async function resetPassword (deps: AccountMailDeps, token: string, newPassword: string, who: Requester): Promise<{ userId: number } | null> {
  const { db, clock, config, outbox, throttle, hasher } = deps
  if (await findResetLink(deps, token) === undefined) return null
  const passwordHash = await hasher.hash(newPassword)
  const done = await db.kysely.transaction().execute(async (trx) => {
    const now = clock()
    const link = await takeLinkToken(trx, token, ['password_reset'], now)
    const user = link === undefined ? undefined : await findUserById(trx, link.user_id)
    // Suspension deletes the account's links; a link that outlived it anyway is refused like an unknown one.
    if (link === undefined || user === undefined || user.suspended_at !== null) return null
    // Following a link sent to the address proves it is the owner's, as confirming it would.
    const confirms = user.email_verified_at === null && user.email === link.email
    await trx.updateTable('users').set({ password_hash: passwordHash, ...(confirms ? { email_verified_at: now } : {}) }).where('id', '=', user.id).execute()
    await deleteUserSessions(trx, user.id)
    await deleteUserTokens(trx, user.id, ['password_reset'])
    await recordEvent(trx, user.id, 'password_reset', { ...who, now })
    await enqueueMail(trx, { userId: user.id, address: user.email }, passwordChangedMail({ name: user.full_name, publicUrl: config.publicUrl, byReset: true }), now)
    return { userId: user.id, email: user.email }
  })
  if (done === null) return null
  await throttle.loginSucceeded(done.email)
  outbox.kick()
  return { userId: done.userId }
}
