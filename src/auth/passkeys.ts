/**
 * Passkeys (WebAuthn) next to passwords, with @simplewebauthn/server: discoverable credentials with user
 * verification required, so a passkey login is a full login that also satisfies two-factor
 * authentication. The relying party is PUBLIC_URL: its host is the RP ID and it is the only origin
 * accepted. Every ceremony's challenge waits server-side for at most five minutes, bound to the browser
 * by a cookie's token (stored hashed), and is taken (deleted) by the one request that answers it; a
 * credential's signature counter must move forward; a passkey belongs to one account, and once removed it
 * logs in nobody. Nothing here logs a challenge, a key or a response.
 */
import { createHash } from 'node:crypto'
import type {
  AuthenticationResponseJSON, AuthenticatorTransportFuture, PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON, VerifiedRegistrationResponse
} from '@simplewebauthn/server'
import type { Config } from '../config.js'
import { isUniqueViolation } from '../db/connect.js'
import { recordEvent } from '../db/queries/events.js'
import * as q from '../db/queries/passkeys.js'
import { findUserById } from '../db/queries/users.js'
import type { Passkey, User, WebAuthnPurpose } from '../db/schema.js'
import { passkeyNoticeMail } from '../mail/messages/notices.js'
import { enqueueMail } from '../mail/outbox.js'
import type { AccountMailDeps, Requester } from './account-mail.js'
import { resendConfirmation } from './email-verification.js'
import type { Verdict } from './throttle.js'
import { hashToken, looksLikeToken, newToken, safeEqual } from './tokens.js'

/**
 * @simplewebauthn/server and what it brings (an X.509 and ASN.1 stack) are loaded by the first passkey
 * ceremony, not at start: a process whose visitors use no passkey does not hold them (decision 0022).
 */
let webAuthnLibrary: Promise<typeof import('@simplewebauthn/server')> | undefined
const webAuthn = async () => await (webAuthnLibrary ??= import('@simplewebauthn/server'))

export const RP_NAME = 'Paws Rescue Center'
export const WEBAUTHN_CHALLENGE_TTL_MS = 5 * 60_000
export const PASSKEY_NAME_MAX_CHARS = 60
/** What a browser's credential id can be (WebAuthn caps it at 1023 bytes: 1364 base64url characters). */
const CREDENTIAL_ID_MAX_CHARS = 1364

export interface RelyingParty {
  /** The host of PUBLIC_URL (a domain name: WebAuthn refuses IP addresses). */
  id: string
  /** PUBLIC_URL itself: the one origin a response may come from. */
  origin: string
}

export function relyingParty (config: Pick<Config, 'publicUrl'>): RelyingParty {
  return { id: new URL(config.publicUrl).hostname, origin: config.publicUrl }
}

/**
 * The user handle stored in a discoverable credential: stable per account for the credential's lifetime
 * (so not keyed by SECRET_KEY, which rotates), and not the account's id itself.
 */
export function userHandle (userId: number): string {
  return createHash('sha256').update(`paws-webauthn-user-handle\0${userId}`).digest('base64url')
}

/**
 * The one place where an account is refused a passkey login for what it is rather than what was sent:
 * the rescue team suspended it.
 */
export function accountMayLogIn (user: User): boolean {
  return user.suspended_at === null
}

async function issueChallenge (deps: Pick<AccountMailDeps, 'db' | 'clock'>, purpose: WebAuthnPurpose, userId: number | null, challenge: string): Promise<string> {
  const token = newToken()
  const now = deps.clock()
  await q.insertChallenge(deps.db.kysely, { id: hashToken(token), purpose, user_id: userId, challenge, created_at: now, expires_at: now + WEBAUTHN_CHALLENGE_TTL_MS })
  return token
}

async function takeChallenge (deps: Pick<AccountMailDeps, 'db' | 'clock'>, token: string | undefined, purpose: WebAuthnPurpose, userId: number | null): Promise<string | undefined> {
  if (!looksLikeToken(token)) return undefined
  return await q.takeChallenge(deps.db.kysely, hashToken(token), purpose, userId, deps.clock())
}

function parseTransports (stored: string): AuthenticatorTransportFuture[] {
  try {
    const value: unknown = JSON.parse(stored)
    return Array.isArray(value) ? value.filter((t): t is AuthenticatorTransportFuture => typeof t === 'string') : []
  } catch {
    return []
  }
}

async function notify (deps: AccountMailDeps, trx: Parameters<typeof enqueueMail>[0], user: Pick<User, 'id' | 'email' | 'full_name'>, passkeyName: string, change: 'added' | 'removed', now: number): Promise<void> {
  await enqueueMail(trx, { userId: user.id, address: user.email }, passkeyNoticeMail({ name: user.full_name, passkeyName, change, publicUrl: deps.config.publicUrl }), now)
}

// ---------------------------------------------------------------------------------------------------------
// Adding a passkey to a signed-in account

export interface CeremonyStart<O> {
  options: O
  /** For the browser's cookie: it names the stored challenge. */
  token: string
}

export async function startRegistration (deps: AccountMailDeps, user: Pick<User, 'id' | 'email' | 'full_name'>): Promise<CeremonyStart<PublicKeyCredentialCreationOptionsJSON>> {
  const rp = relyingParty(deps.config)
  const existing = await q.listPasskeys(deps.db.kysely, user.id)
  const options = await (await webAuthn()).generateRegistrationOptions({
    rpName: RP_NAME,
    rpID: rp.id,
    userName: user.email,
    userDisplayName: user.full_name,
    userID: Buffer.from(userHandle(user.id), 'base64url'),
    timeout: WEBAUTHN_CHALLENGE_TTL_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: parseTransports(p.transports) })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' }
  })
  return { options, token: await issueChallenge(deps, 'register', user.id, options.challenge) }
}

export type RegistrationOutcome =
  | { outcome: 'added', passkey: Passkey }
  /** No live challenge for this browser and account: expired, used already, or never asked for. */
  | { outcome: 'expired' }
  | { outcome: 'invalid' }
  /** The credential is registered already (to this account or another). */
  | { outcome: 'taken' }

export async function finishRegistration (deps: AccountMailDeps, userId: number, token: string | undefined, response: RegistrationResponseJSON, name: string, who: Requester): Promise<RegistrationOutcome> {
  const challenge = await takeChallenge(deps, token, 'register', userId)
  if (challenge === undefined) return { outcome: 'expired' }
  const user = await findUserById(deps.db.kysely, userId)
  if (user === undefined) return { outcome: 'expired' }
  const rp = relyingParty(deps.config)
  const { verifyRegistrationResponse } = await webAuthn()
  let verified: VerifiedRegistrationResponse
  try {
    verified = await verifyRegistrationResponse({
      response, expectedChallenge: challenge, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification: true
    })
  } catch {
    return { outcome: 'invalid' }
  }
  if (!verified.verified) return { outcome: 'invalid' }
  const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo
  if (credential.id.length > CREDENTIAL_ID_MAX_CHARS) return { outcome: 'invalid' }
  try {
    const passkey = await deps.db.kysely.transaction().execute(async (trx) => {
      const now = deps.clock()
      const added = await q.insertPasskey(trx, {
        credential_id: credential.id,
        user_id: user.id,
        public_key: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        transports: JSON.stringify(credential.transports ?? []),
        device_type: credentialDeviceType,
        backed_up: credentialBackedUp ? 1 : 0,
        name,
        created_at: now,
        last_used_at: null
      })
      await recordEvent(trx, user.id, 'passkey_added', { ...who, now })
      await notify(deps, trx, user, name, 'added', now)
      return added
    })
    deps.outbox.kick()
    return { outcome: 'added', passkey }
  } catch (error) {
    if (isUniqueViolation(error)) return { outcome: 'taken' }
    throw error
  }
}

// ---------------------------------------------------------------------------------------------------------
// Managing the account's passkeys

export async function listAccountPasskeys (deps: Pick<AccountMailDeps, 'db'>, userId: number): Promise<Passkey[]> {
  return await q.listPasskeys(deps.db.kysely, userId)
}

export async function renameAccountPasskey (deps: AccountMailDeps, userId: number, id: number, name: string, who: Requester): Promise<boolean> {
  const renamed = await deps.db.kysely.transaction().execute(async (trx) => {
    const row = await q.renamePasskey(trx, userId, id, name)
    if (row !== undefined) await recordEvent(trx, userId, 'passkey_renamed', { ...who, now: deps.clock() })
    return row !== undefined
  })
  return renamed
}

/** Removes one of the account's passkeys (it can log in no more), with an event and a notice; false when it was not the account's. */
export async function removeAccountPasskey (deps: AccountMailDeps, userId: number, id: number, who: Requester): Promise<boolean> {
  const user = await findUserById(deps.db.kysely, userId)
  if (user === undefined) return false
  const removed = await deps.db.kysely.transaction().execute(async (trx) => {
    const row = await q.deletePasskey(trx, userId, id)
    if (row === undefined) return false
    const now = deps.clock()
    await recordEvent(trx, userId, 'passkey_removed', { ...who, now })
    await notify(deps, trx, user, row.name, 'removed', now)
    return true
  })
  if (removed) deps.outbox.kick()
  return removed
}

// ---------------------------------------------------------------------------------------------------------
// Logging in with a passkey

export async function startLogin (deps: AccountMailDeps): Promise<CeremonyStart<PublicKeyCredentialRequestOptionsJSON>> {
  const options = await (await webAuthn()).generateAuthenticationOptions({ rpID: relyingParty(deps.config).id, userVerification: 'required', timeout: WEBAUTHN_CHALLENGE_TTL_MS })
  return { options, token: await issueChallenge(deps, 'login', null, options.challenge) }
}

export type LoginOutcome =
  | { outcome: 'ok', user: User }
  | { outcome: 'expired' }
  /** No passkey has this credential id (never registered, or removed). */
  | { outcome: 'unknown' }
  | { outcome: 'invalid', user: User }
  | { outcome: 'throttled', verdict: Extract<Verdict, { allowed: false }>, user: User | null }
  | { outcome: 'refused', user: User }
  /** Right passkey, but REQUIRE_EMAIL_VERIFICATION and the address is unconfirmed: a new link went out. */
  | { outcome: 'unconfirmed', user: User }

/**
 * The answer to a login challenge. The challenge is used up first, whatever follows; the throttle is the
 * password login's (a wrong answer counts against the address, not the account, since nothing can be
 * guessed); the counter must move forward (unless the authenticator keeps none: both zero).
 */
export async function finishLogin (deps: AccountMailDeps, token: string | undefined, response: AuthenticationResponseJSON, who: Requester): Promise<LoginOutcome> {
  const { db, clock, throttle, config } = deps
  const challenge = await takeChallenge(deps, token, 'login', null)
  if (challenge === undefined) return { outcome: 'expired' }
  const found = response.id.length > CREDENTIAL_ID_MAX_CHARS ? undefined : await q.findPasskeyByCredentialId(db.kysely, response.id)
  const user = found === undefined ? undefined : await findUserById(db.kysely, found.user_id)
  const verdict = await throttle.checkLogin(user?.email ?? null, who.ip)
  if (!verdict.allowed) {
    if (user !== undefined) await recordEvent(db.kysely, user.id, 'login_throttled', { ...who, now: clock() })
    return { outcome: 'throttled', verdict, user: user ?? null }
  }
  if (found === undefined || user === undefined) {
    await throttle.loginFailed(null, who.ip)
    return { outcome: 'unknown' }
  }
  // A suspended account is refused before anything about its passkey changes.
  if (!accountMayLogIn(user)) {
    await recordEvent(db.kysely, user.id, 'login_suspended', { ...who, now: clock() })
    return { outcome: 'refused', user }
  }
  const rp = relyingParty(config)
  let newCounter: number | null = null
  try {
    const result = await (await webAuthn()).verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      credential: { id: found.credential_id, publicKey: Buffer.from(found.public_key, 'base64url'), counter: found.counter, transports: parseTransports(found.transports) }
    })
    const handle = response.response.userHandle
    const sameOwner = handle === undefined || safeEqual(handle, userHandle(user.id))
    if (result.verified && result.authenticationInfo.userVerified && sameOwner) newCounter = result.authenticationInfo.newCounter
  } catch {
    newCounter = null
  }
  if (newCounter === null || !await q.usePasskey(db.kysely, found.id, found.counter, newCounter, clock())) {
    await throttle.loginFailed(null, who.ip)
    await recordEvent(db.kysely, user.id, 'login_failed', { ...who, now: clock() })
    return { outcome: 'invalid', user }
  }
  if (config.recovery.requireEmailVerification && user.email_verified_at === null) {
    await throttle.loginSucceeded(user.email)
    await resendConfirmation(deps, user.id)
    return { outcome: 'unconfirmed', user }
  }
  await throttle.loginSucceeded(user.email)
  return { outcome: 'ok', user }
}
