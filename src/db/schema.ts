/**
 * Every table described once; row, insert and update types are derived from these descriptions.
 * Times are milliseconds since the epoch (integers on both databases), so comparisons are exact.
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely'

export type Role = 'staff' | 'adopter'

export interface UsersTable {
  id: Generated<number>
  /** Trimmed and lower-cased: the unique index makes emails unique case-insensitively. */
  email: string
  full_name: string
  password_hash: string
  role: Role
  created_at: number
  /** When the owner followed a link sent to this address; null until then (and again after a change). */
  email_verified_at: number | null
  /** The TOTP secret, encrypted with a key derived from SECRET_KEY (secret-box.ts); null without 2FA. */
  two_factor_secret: string | null
  /** A secret being set up (shown as a QR code), encrypted likewise; it becomes the secret once a code confirms it. */
  two_factor_pending_secret: string | null
  two_factor_enabled_at: number | null
  /** The last TOTP time step a code was accepted at: a code of this step or an earlier one is refused. */
  two_factor_last_step: number | null
  /** When the rescue team suspended the account; null while it may log in. */
  suspended_at: Generated<number | null>
  /** Why, as the team wrote it; shown to the team only. */
  suspension_reason: Generated<string | null>
  /** JavaScript's toLowerCase of full_name, for the prefix search of the people page (insertUser fills it). */
  name_key: Generated<string>
}

export interface PetsTable {
  id: Generated<number>
  name: string
  /** Lower-cased name, unique: two pets may not share a name whatever its case. */
  name_key: string
  age: string
  bio: string
  picture: string
  created_at: number
  updated_at: number
}

export interface SessionsTable {
  /** SHA-256 of the session token, hex. The token itself is never stored. */
  id: string
  user_id: number
  created_at: number
  last_seen_at: number
  /** Absolute expiry; the idle expiry is derived from last_seen_at and the remember flag. */
  expires_at: number
  /** 1 when "remember me" was ticked: a persistent cookie and the longer timeouts. */
  remember: number
  user_agent: string
  ip: string
}

export type AccountEventType =
  | 'signup' | 'login' | 'login_failed' | 'login_throttled' | 'logout'
  | 'password_changed' | 'session_ended' | 'other_sessions_ended' | 'sessions_revoked' | 'role_changed'
  | 'password_reset_requested' | 'password_reset' | 'email_verified' | 'email_change_requested' | 'email_changed' | 'mail_failed'
  | 'two_factor_enabled' | 'two_factor_disabled' | 'recovery_codes_generated' | 'recovery_code_used' | 'two_factor_reset'
  | 'two_factor_failed'
  | 'suspended' | 'restored' | 'login_suspended' | 'staff_ended_session' | 'staff_ended_sessions'
  /** On a staff member's own history: something they did to another account (detail names it). */
  | 'staff_action'
  | 'passkey_added' | 'passkey_removed' | 'passkey_renamed'

export interface AccountEventsTable {
  id: Generated<number>
  user_id: number
  type: AccountEventType
  ip: string
  user_agent: string
  created_at: number
  /** The staff member who acted on this account; null when the owner (or the operator's CLI, ip 'cli') did. */
  actor_user_id: Generated<number | null>
  /** What the event needs said: the new role, the suspension reason, the account a staff action was on. */
  detail: Generated<string | null>
}

export type OneTimeTokenPurpose = 'password_reset' | 'email_verification' | 'email_change'

/** Links sent by email: each row is one link, by the SHA-256 of its token; deleted when used. */
export interface OneTimeTokensTable {
  /** SHA-256 of the token, hex. The token itself is only in the email. */
  id: string
  user_id: number
  purpose: OneTimeTokenPurpose
  /** The address the link was sent to: the one it confirms, for verification and change. */
  email: string
  created_at: number
  expires_at: number
}

/** Mail waiting to be delivered, and the record of what was. Written in the transaction of the change it tells of. */
export interface MailOutboxTable {
  id: Generated<number>
  user_id: number | null
  /** Which message it is (messages/), for the log and the record: never its content. */
  kind: string
  recipient: string
  subject: string
  /** Emptied once delivered over SMTP: a body may hold a link with a token. */
  text_body: string
  html_body: string
  created_at: number
  attempts: number
  /** When a sender may next try it; null once it was delivered or given up. */
  next_attempt_at: number | null
  /** A sender that claimed it holds it until then; another sender takes it over after that. */
  claimed_until: number | null
  sent_at: number | null
  failed_at: number | null
  last_error: string | null
}

/** One-time codes for when the authenticator is lost; each is deleted when used. */
export interface RecoveryCodesTable {
  /** SHA-256 of the normalised code (80 random bits), hex. */
  code_hash: string
  user_id: number
  created_at: number
}

/** A right password waiting for its second factor: bound to the browser by a cookie holding a token. */
export interface PendingLoginsTable {
  /** SHA-256 of the cookie's token. */
  id: string
  user_id: number
  /** Where the login goes once complete (already a safe same-site path). */
  next: string
  remember: number
  failures: number
  created_at: number
  expires_at: number
}

/** A WebAuthn credential (passkey) registered to one account. */
export interface PasskeysTable {
  id: Generated<number>
  /** The credential id, base64url: unique across the site, so a passkey belongs to one account. */
  credential_id: string
  user_id: number
  /** The COSE-encoded public key, base64url. */
  public_key: string
  /** The authenticator's signature counter at its last use: a lower or equal one later means a clone. */
  counter: number
  /** JSON array of the transports the browser reported (usb, internal, hybrid...). */
  transports: string
  /** 'singleDevice' or 'multiDevice' (backup eligible), as @simplewebauthn/server reports it. */
  device_type: string
  /** 1 when the credential is backed up (synced passkey). */
  backed_up: number
  /** The owner's label for it. */
  name: string
  created_at: number
  last_used_at: number | null
}

export type WebAuthnPurpose = 'register' | 'login'

/** A challenge waiting for its ceremony's answer: single use, bound to the browser by a cookie's token. */
export interface WebAuthnChallengesTable {
  /** SHA-256 of the cookie's token, hex. */
  id: string
  purpose: WebAuthnPurpose
  /** The account adding a passkey; null for a login (the passkey names the account). */
  user_id: number | null
  /** The base64url challenge the browser signs. */
  challenge: string
  created_at: number
  expires_at: number
}

export interface AppMetaTable {
  key: string
  value: string
}

export interface Database {
  users: UsersTable
  pets: PetsTable
  sessions: SessionsTable
  account_events: AccountEventsTable
  app_meta: AppMetaTable
  one_time_tokens: OneTimeTokensTable
  mail_outbox: MailOutboxTable
  recovery_codes: RecoveryCodesTable
  pending_logins: PendingLoginsTable
  passkeys: PasskeysTable
  webauthn_challenges: WebAuthnChallengesTable
}

export type User = Selectable<UsersTable>
export type NewUser = Insertable<UsersTable>
export type Pet = Selectable<PetsTable>
export type NewPet = Insertable<PetsTable>
export type PetUpdate = Updateable<PetsTable>
export type SessionRow = Selectable<SessionsTable>
export type AccountEvent = Selectable<AccountEventsTable>
export type OneTimeToken = Selectable<OneTimeTokensTable>
export type OutboxMessage = Selectable<MailOutboxTable>
export type PendingLogin = Selectable<PendingLoginsTable>
export type Passkey = Selectable<PasskeysTable>
export type NewPasskey = Insertable<PasskeysTable>
