/**
 * What the flows that send mail need, and the addresses of the pages their links open. Links are
 * absolute on PUBLIC_URL, the origin visitors use (https behind the TLS proxy).
 */
import type { Config } from '../config.js'
import type { Db } from '../db/connect.js'
import type { EventContext } from '../db/queries/events.js'
import type { Outbox } from '../mail/outbox.js'
import type { PasswordHasher } from './passwords.js'
import type { Clock } from './sessions.js'
import type { Throttle } from './throttle.js'

export interface AccountMailDeps {
  readonly db: Db
  readonly clock: Clock
  readonly config: Config
  readonly outbox: Outbox
  readonly throttle: Throttle
  readonly hasher: PasswordHasher
}

/** Who asked, for the account's history. */
export type Requester = Omit<EventContext, 'now'>

export const PASSWORD_RESET_PATH = '/password-reset'
export const VERIFY_EMAIL_PATH = '/verify-email'

export function resetLink (config: Config, token: string): string {
  return `${config.publicUrl}${PASSWORD_RESET_PATH}/${token}`
}

export function verifyLink (config: Config, token: string): string {
  return `${config.publicUrl}${VERIFY_EMAIL_PATH}/${token}`
}
