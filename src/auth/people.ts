/**
 * What the rescue team may do to an account, as named rules and one transaction per action: suspend
 * (every session and emailed link of the account ends with it), restore, change the role, end sessions,
 * send a reset link. Each action is recorded on the account, with the acting staff member, and on the
 * staff member's own history. Nobody changes their own role or suspends themselves, and the last staff
 * account that can log in never loses its role: that count is taken inside the transaction that demotes.
 */
import type { Kysely } from 'kysely'
import { recordEvent } from '../db/queries/events.js'
import { deleteUserTokens } from '../db/queries/one-time-tokens.js'
import { deleteUserSession, deleteUserSessions } from '../db/queries/sessions.js'
import { countOtherActiveStaff, findUserById, setRole, setSuspension } from '../db/queries/users.js'
import type { AccountEventType, Database, Role, User } from '../db/schema.js'
import type { AccountMailDeps, Requester } from './account-mail.js'
import { requestPasswordReset } from './password-reset.js'

/** Who acts: a staff member (by id), or the operator at the CLI (null), with where the request came from. */
export interface Actor extends Requester { id: number | null }

export type Refusal = 'not-found' | 'self' | 'last-staff' | 'unchanged' | 'capped'
export type Outcome = 'done' | Refusal

export const REFUSAL_MESSAGES: Record<Exclude<Refusal, 'not-found'>, string> = {
  self: 'You cannot do that to your own account. Ask another member of the rescue team.',
  'last-staff': 'This is the last staff account that can log in, so it cannot lose its role. Make someone else staff first.',
  unchanged: 'Nothing to change: the account is already like that.',
  capped: 'This account has had as many reset emails as allowed this hour. Please try again later.'
}

export const ALL_LINK_PURPOSES = ['password_reset', 'email_verification', 'email_change'] as const

/** The role may change unless it is the actor's own, or it would leave no staff account that can log in. */
export function canChangeRole (actorId: number | null, target: Pick<User, 'id' | 'role'>, role: Role, otherActiveStaff: number): Refusal | null {
  if (actorId === target.id) return 'self'
  if (target.role === role) return 'unchanged'
  if (target.role === 'staff' && otherActiveStaff === 0) return 'last-staff'
  return null
}

/** Anyone but oneself may be suspended; the actor, who can log in, stays. */
export function canSuspend (actorId: number | null, target: Pick<User, 'id' | 'suspended_at'>): Refusal | null {
  if (actorId === target.id) return 'self'
  if (target.suspended_at !== null) return 'unchanged'
  return null
}

type Trx = Kysely<Database>

/** What the actions need; sending a reset link needs the mail flow's AccountMailDeps. */
export type PeopleDeps = Pick<AccountMailDeps, 'db' | 'clock'>

/** Records the event on the account (with the actor) and, for a staff actor, on their own history. */
async function recordAction (trx: Trx, actor: Actor, target: Pick<User, 'id' | 'email'>, type: AccountEventType, now: number, detail: string | null, summary: string): Promise<void> {
  await recordEvent(trx, target.id, type, { ip: actor.ip, userAgent: actor.userAgent, now, actorUserId: actor.id }, detail)
  if (actor.id !== null) await recordEvent(trx, actor.id, 'staff_action', { ip: actor.ip, userAgent: actor.userAgent, now }, `${summary}: ${target.email}`)
}

/** Runs `act` on the target inside one transaction; `act` returns a refusal, or null when it made its change. */
async function onAccount (deps: PeopleDeps, targetId: number, act: (trx: Trx, target: User, now: number) => Promise<Refusal | null>): Promise<Outcome> {
  return await deps.db.kysely.transaction().execute(async (trx) => {
    const target = await findUserById(trx, targetId)
    if (target === undefined) return 'not-found'
    return await act(trx, target, deps.clock()) ?? 'done'
  })
}

export async function suspendAccount (deps: PeopleDeps, actor: Actor, targetId: number, reason: string): Promise<Outcome> {
  return await onAccount(deps, targetId, async (trx, target, now) => {
    const refusal = canSuspend(actor.id, target)
    if (refusal !== null) return refusal
    await setSuspension(trx, target.id, { at: now, reason })
    await deleteUserSessions(trx, target.id)
    await deleteUserTokens(trx, target.id, ALL_LINK_PURPOSES)
    await trx.deleteFrom('pending_logins').where('user_id', '=', target.id).execute()
    await recordAction(trx, actor, target, 'suspended', now, reason, 'Suspended')
    return null
  })
}

export async function restoreAccount (deps: PeopleDeps, actor: Actor, targetId: number): Promise<Outcome> {
  return await onAccount(deps, targetId, async (trx, target, now) => {
    if (target.suspended_at === null) return 'unchanged'
    await setSuspension(trx, target.id, null)
    await recordAction(trx, actor, target, 'restored', now, null, 'Restored')
    return null
  })
}

export async function changeRole (deps: PeopleDeps, actor: Actor, targetId: number, role: Role): Promise<Outcome> {
  return await onAccount(deps, targetId, async (trx, target, now) => {
    const others = target.role === 'staff' && role !== 'staff' ? await countOtherActiveStaff(trx, target.id) : 1
    const refusal = canChangeRole(actor.id, target, role, others)
    if (refusal !== null) return refusal
    await setRole(trx, target.id, role)
    await recordAction(trx, actor, target, 'role_changed', now, role, role === 'staff' ? 'Made staff' : 'Made adopter')
    return null
  })
}

export async function endPersonSession (deps: PeopleDeps, actor: Actor, targetId: number, sessionId: string): Promise<Outcome> {
  return await onAccount(deps, targetId, async (trx, target, now) => {
    if (!await deleteUserSession(trx, target.id, sessionId)) return 'unchanged'
    await recordAction(trx, actor, target, 'staff_ended_session', now, null, 'Ended a session')
    return null
  })
}

export async function endPersonSessions (deps: PeopleDeps, actor: Actor, targetId: number): Promise<Outcome> {
  return await onAccount(deps, targetId, async (trx, target, now) => {
    const ended = await deleteUserSessions(trx, target.id)
    await recordAction(trx, actor, target, 'staff_ended_sessions', now, String(ended), 'Ended every session')
    return null
  })
}

/** The reset flow as if the person asked (its hourly cap included); a suspended account gets nothing. */
export async function sendResetLink (deps: AccountMailDeps, actor: Actor, targetId: number): Promise<Outcome> {
  const target = await findUserById(deps.db.kysely, targetId)
  if (target === undefined) return 'not-found'
  const outcome = await requestPasswordReset(deps, target.email, { ip: actor.ip, userAgent: actor.userAgent, actorUserId: actor.id })
  if (outcome === 'capped') return 'capped'
  if (outcome !== 'sent') return 'unchanged'
  if (actor.id !== null) {
    await recordEvent(deps.db.kysely, actor.id, 'staff_action', { ip: actor.ip, userAgent: actor.userAgent, now: deps.clock() }, `Sent a password reset link: ${target.email}`)
  }
  return 'done'
}
