/**
 * A password change from the account page, as one transaction: the new hash, every session of the
 * account ended (the caller then starts a new one for this browser), every reset link killed (a link
 * sent before the change must not undo it), the event, and the notice to the account's address.
 */
import { recordEvent } from '../db/queries/events.js'
import { deleteUserTokens } from '../db/queries/one-time-tokens.js'
import { deleteUserSessions } from '../db/queries/sessions.js'
import type { User } from '../db/schema.js'
import { passwordChangedMail } from '../mail/messages/notices.js'
import { enqueueMail } from '../mail/outbox.js'
import type { AccountMailDeps, Requester } from './account-mail.js'

/** Returns how many sessions it ended. */
export async function changePassword (deps: AccountMailDeps, user: Pick<User, 'id' | 'email' | 'full_name'>, passwordHash: string, who: Requester): Promise<number> {
  const { db, clock, config, outbox } = deps
  const ended = await db.kysely.transaction().execute(async (trx) => {
    const now = clock()
    await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', user.id).execute()
    const sessions = await deleteUserSessions(trx, user.id)
    await deleteUserTokens(trx, user.id, ['password_reset'])
    await recordEvent(trx, user.id, 'password_changed', { ...who, now })
    await enqueueMail(trx, { userId: user.id, address: user.email }, passwordChangedMail({ name: user.full_name, publicUrl: config.publicUrl, byReset: false }), now)
    return sessions
  })
  outbox.kick()
  return ended
}
