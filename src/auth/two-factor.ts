/**
 * Two-factor authentication with time-based one-time codes (RFC 6238: SHA-1, 6 digits, 30 s), built to
 * the Copenhagen Book's MFA page and OWASP's MFA cheat sheet. The TOTP arithmetic is the `otpauth`
 * library's. A secret is 160 random bits, kept sealed (secret-box.ts); it takes effect only once a code
 * made from it is entered. A code is accepted one step either side of now, and once: the step it matched
 * is recorded and no code of that step or an earlier one works again. Ten recovery codes of 80 random
 * bits each stand in for a lost phone; they are stored as hashes and each works once.
 *
 * Logging in with it is two steps: a right password starts a pending login (5 minutes, bound to the
 * browser by a cookie whose token is stored hashed, and to `next`), and only a right code turns it into a
 * session. Five wrong codes end it.
 */
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { Secret, TOTP } from 'otpauth'
import { recordEvent } from '../db/queries/events.js'
import * as q from '../db/queries/two-factor.js'
import { findUserById } from '../db/queries/users.js'
import type { Database, PendingLogin, User } from '../db/schema.js'
import { twoFactorNoticeMail, type TwoFactorChange } from '../mail/messages/two-factor-notices.js'
import { enqueueMail } from '../mail/outbox.js'
import type { AccountMailDeps, Requester } from './account-mail.js'
import type { SecretBox } from './secret-box.js'
import { hashToken, looksLikeToken, newToken } from './tokens.js'

export const TOTP_ISSUER = 'Paws Rescue Center'
const TOTP_PERIOD_SECONDS = 30
const TOTP_DIGITS = 6
/** Steps either side of now whose codes are accepted: a phone clock a little off, a code typed as it changed. */
const TOTP_WINDOW_STEPS = 1
const SECRET_BYTES = 20
export const RECOVERY_CODE_COUNT = 10
/** 16 characters of base32: 80 bits. */
const RECOVERY_CODE_CHARS = 16
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'
export const PENDING_LOGIN_TTL_MS = 5 * 60_000
export const MAX_CODE_FAILURES = 5

export interface TwoFactorDeps extends AccountMailDeps {
  /** Seals TOTP secrets at rest. */
  readonly twoFactorSecrets: SecretBox
}

export function totpUri (email: string, secretBase32: string): string {
  const issuer = encodeURIComponent(TOTP_ISSUER)
  return `otpauth://totp/${issuer}:${encodeURIComponent(email)}?secret=${secretBase32}&issuer=${issuer}`
}

function totpFor (secretBase32: string): TOTP {
  return new TOTP({ issuer: TOTP_ISSUER, secret: Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS })
}

/** The time step whose code `code` is, within the window around `now`, or null. */
export function matchingStep (secretBase32: string, code: string, now: number): number | null {
  if (!/^\d{6}$/.test(code)) return null
  const totp = totpFor(secretBase32)
  const delta = totp.validate({ token: code, timestamp: now, window: TOTP_WINDOW_STEPS })
  return delta === null ? null : totp.counter({ timestamp: now }) + delta
}

/** What a user types: spaces and dashes dropped, case ignored. */
export function normalizeCode (input: string): string {
  return input.replace(/[\s-]+/g, '').toLowerCase()
}

export function newRecoveryCodes (): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const bytes = randomBytes(RECOVERY_CODE_CHARS)
    const chars = [...bytes].map((b) => BASE32[b % BASE32.length]).join('')
    return chars.match(/.{4}/g)!.join('-')
  })
}

export function hashRecoveryCode (code: string): string {
  return hashToken(normalizeCode(code))
}

export interface TwoFactorSetup {
  secretBase32: string
  uri: string
  /** An SVG drawing of the URI's QR code, made on the server from our own URI (no user text is drawn). */
  qrSvg: string
}

/** The secret being set up (the same one until it is confirmed or replaced), with its URI and QR code. */
export async function setupSecret (deps: TwoFactorDeps, user: Pick<User, 'id' | 'email' | 'two_factor_pending_secret'>): Promise<TwoFactorSetup> {
  const existing = user.two_factor_pending_secret === null ? null : deps.twoFactorSecrets.open(user.two_factor_pending_secret)
  let secretBase32 = existing
  if (secretBase32 === null) {
    secretBase32 = new Secret({ size: SECRET_BYTES }).base32
    await q.setPendingSecret(deps.db.kysely, user.id, deps.twoFactorSecrets.seal(secretBase32))
  }
  const uri = totpUri(user.email, secretBase32)
  // Loaded by the first setup, not at start: only the accounts turning 2FA on need it.
  const { default: QRCode } = await import('qrcode')
  const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 })
  return { secretBase32, uri, qrSvg }
}

async function notify (deps: Pick<TwoFactorDeps, 'config'>, trx: Kysely<Database>, user: Pick<User, 'id' | 'email' | 'full_name'>, change: TwoFactorChange, now: number): Promise<void> {
  await enqueueMail(trx, { userId: user.id, address: user.email }, twoFactorNoticeMail({ name: user.full_name, change, publicUrl: deps.config.publicUrl }), now)
}

/** Turns 2FA on if `code` was made from the pending secret; returns the recovery codes, to be shown once. */
export async function enableTwoFactor (deps: TwoFactorDeps, userId: number, code: string, who: Requester): Promise<string[] | null> {
  const { db, clock, outbox, twoFactorSecrets } = deps
  const user = await findUserById(db.kysely, userId)
  if (user === undefined || user.two_factor_enabled_at !== null || user.two_factor_pending_secret === null) return null
  const secret = twoFactorSecrets.open(user.two_factor_pending_secret)
  const now = clock()
  const step = secret === null ? null : matchingStep(secret, normalizeCode(code), now)
  if (step === null) return null
  const codes = newRecoveryCodes()
  await db.kysely.transaction().execute(async (trx) => {
    await q.enableTwoFactor(trx, user.id, user.two_factor_pending_secret!, step, now)
    await q.replaceRecoveryCodes(trx, user.id, codes.map(hashRecoveryCode), now)
    await recordEvent(trx, user.id, 'two_factor_enabled', { ...who, now })
    await notify(deps, trx, user, 'enabled', now)
  })
  outbox.kick()
  return codes
}

/** Checks a TOTP code of the account's secret and uses its step up; false for a wrong or replayed code. */
export async function acceptTotp (deps: TwoFactorDeps, user: Pick<User, 'id' | 'two_factor_secret'>, code: string): Promise<boolean> {
  const secret = user.two_factor_secret === null ? null : deps.twoFactorSecrets.open(user.two_factor_secret)
  const step = secret === null ? null : matchingStep(secret, normalizeCode(code), deps.clock())
  return step !== null && await q.claimTotpStep(deps.db.kysely, user.id, step)
}

export type ManageOutcome = 'done' | 'wrong-password' | 'wrong-code' | 'not-enabled'

/** Turns 2FA off: needs the password and a current code. */
export async function disableTwoFactor (deps: TwoFactorDeps, userId: number, password: string, code: string, who: Requester): Promise<ManageOutcome> {
  const { db, clock, outbox, hasher } = deps
  const user = await findUserById(db.kysely, userId)
  if (user === undefined || user.two_factor_enabled_at === null) return 'not-enabled'
  if (!await hasher.verify(user.password_hash, password)) return 'wrong-password'
  if (!await acceptTotp(deps, user, code)) return 'wrong-code'
  await db.kysely.transaction().execute(async (trx) => {
    const now = clock()
    await q.disableTwoFactor(trx, user.id)
    await recordEvent(trx, user.id, 'two_factor_disabled', { ...who, now })
    await notify(deps, trx, user, 'disabled', now)
  })
  outbox.kick()
  return 'done'
}

/** New recovery codes (the old ones die): needs the password. */
export async function regenerateRecoveryCodes (deps: TwoFactorDeps, userId: number, password: string, who: Requester): Promise<string[] | Exclude<ManageOutcome, 'done' | 'wrong-code'>> {
  const { db, clock, outbox, hasher } = deps
  const user = await findUserById(db.kysely, userId)
  if (user === undefined || user.two_factor_enabled_at === null) return 'not-enabled'
  if (!await hasher.verify(user.password_hash, password)) return 'wrong-password'
  const codes = newRecoveryCodes()
  await db.kysely.transaction().execute(async (trx) => {
    const now = clock()
    await q.replaceRecoveryCodes(trx, user.id, codes.map(hashRecoveryCode), now)
    await recordEvent(trx, user.id, 'recovery_codes_generated', { ...who, now })
    await notify(deps, trx, user, 'recovery-codes', now)
  })
  outbox.kick()
  return codes
}

/**
 * For an operator helping someone who lost both the phone and the codes: 2FA off, an event and a notice.
 * (From the CLI, where no sender runs: a running server's sender delivers the notice.)
 */
export async function resetTwoFactor (deps: Pick<TwoFactorDeps, 'db' | 'clock' | 'config'> & { outbox: Pick<TwoFactorDeps['outbox'], 'kick'> }, user: Pick<User, 'id' | 'email' | 'full_name'>, who: Requester): Promise<void> {
  await deps.db.kysely.transaction().execute(async (trx) => {
    const now = deps.clock()
    await q.disableTwoFactor(trx, user.id)
    await recordEvent(trx, user.id, 'two_factor_reset', { ...who, now })
    await notify(deps, trx, user, 'reset', now)
  })
  deps.outbox.kick()
}

/**
 * During a key rotation (SECRET_KEY_PREVIOUS set), seals again with the current key every two-factor
 * secret that only the previous key opens, so removing the previous key later locks nobody out. Runs
 * at start; there are as many rows as accounts with two-factor authentication.
 */
export async function resealTwoFactorSecrets (deps: Pick<TwoFactorDeps, 'db' | 'twoFactorSecrets'>): Promise<number> {
  const rows = await deps.db.kysely.selectFrom('users').select(['id', 'two_factor_secret', 'two_factor_pending_secret'])
    .where((eb) => eb.or([eb('two_factor_secret', 'is not', null), eb('two_factor_pending_secret', 'is not', null)])).execute()
  let resealed = 0
  for (const row of rows) {
    const secret = row.two_factor_secret === null ? null : deps.twoFactorSecrets.reseal(row.two_factor_secret)
    const pending = row.two_factor_pending_secret === null ? null : deps.twoFactorSecrets.reseal(row.two_factor_pending_secret)
    if (secret === null && pending === null) continue
    await deps.db.kysely.updateTable('users')
      .set({ ...(secret === null ? {} : { two_factor_secret: secret }), ...(pending === null ? {} : { two_factor_pending_secret: pending }) })
      .where('id', '=', row.id).execute()
    resealed++
  }
  return resealed
}

export async function recoveryCodesLeft (deps: Pick<TwoFactorDeps, 'db'>, userId: number): Promise<number> {
  return await q.countRecoveryCodes(deps.db.kysely, userId)
}

// ---------------------------------------------------------------------------------------------------------
// The pending login between the password and the code

/** Starts the wait for a second factor; returns the token for the browser's cookie. */
export async function startPendingLogin (deps: TwoFactorDeps, userId: number, next: string, remember: boolean): Promise<string> {
  const token = newToken()
  const now = deps.clock()
  await q.insertPendingLogin(deps.db.kysely, {
    id: hashToken(token), user_id: userId, next, remember: remember ? 1 : 0, failures: 0, created_at: now, expires_at: now + PENDING_LOGIN_TTL_MS
  })
  return token
}

export async function findPendingLogin (deps: Pick<TwoFactorDeps, 'db' | 'clock'>, token: string | undefined): Promise<PendingLogin | undefined> {
  return looksLikeToken(token) ? await q.findPendingLogin(deps.db.kysely, hashToken(token), deps.clock()) : undefined
}

export type SecondFactorOutcome =
  | { outcome: 'ok', user: User, next: string, remember: boolean, usedRecoveryCode: boolean }
  | { outcome: 'wrong', user: User }
  | { outcome: 'ended', user: User }
  | { outcome: 'expired' }

/**
 * The second step of a login: a current TOTP code or an unused recovery code completes it (once: the
 * pending login is deleted by the request that completes it); a wrong one is counted, and the fifth ends it.
 */
export async function completeSecondFactor (deps: TwoFactorDeps, pending: PendingLogin, code: string, who: Requester): Promise<SecondFactorOutcome> {
  const { db, clock } = deps
  const user = await findUserById(db.kysely, pending.user_id)
  // Suspended or 2FA turned off since the password step: the login starts again (and is refused there).
  if (user === undefined || user.two_factor_enabled_at === null || user.suspended_at !== null) {
    await q.deletePendingLogin(db.kysely, pending.id)
    return { outcome: 'expired' }
  }
  const normalized = normalizeCode(code)
  let usedRecoveryCode = false
  let right = /^\d{6}$/.test(normalized) && await acceptTotp(deps, user, normalized)
  if (!right && normalized.length === RECOVERY_CODE_CHARS) {
    right = await q.useRecoveryCode(db.kysely, user.id, hashRecoveryCode(normalized))
    usedRecoveryCode = right
  }
  if (right) {
    if (!await q.deletePendingLogin(db.kysely, pending.id)) return { outcome: 'expired' }
    if (usedRecoveryCode) await recordEvent(db.kysely, user.id, 'recovery_code_used', { ...who, now: clock() })
    return { outcome: 'ok', user, next: pending.next, remember: pending.remember === 1, usedRecoveryCode }
  }
  await recordEvent(db.kysely, user.id, 'two_factor_failed', { ...who, now: clock() })
  const failures = await q.countPendingFailure(db.kysely, pending.id)
  if (failures === null) return { outcome: 'expired' }
  if (failures >= MAX_CODE_FAILURES) {
    await q.deletePendingLogin(db.kysely, pending.id)
    return { outcome: 'ended', user }
  }
  return { outcome: 'wrong', user }
}
