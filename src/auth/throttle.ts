/**
 * Login and sign-up throttling on atomic counters (rate-limiter-flexible): in memory for one process,
 * in the database when several processes share it, in Redis when REDIS_URL is set.
 *
 * Per account: after `loginMaxFailures` consecutive failures the account's door is locked for a minute,
 * doubling with each further failure up to 15 minutes, and at most 100 failures an hour. Per address: at
 * most `loginFailuresPerIpPerMinute` failed logins a minute and `signupsPerIpPerHour` sign-ups an hour.
 * Checks come before any password hash, so a locked door costs the server nothing.
 *
 * Mail that anyone can ask for is capped too: password reset requests per address (refused with a 429),
 * and reset or confirmation emails per account an hour (past the cap a request is answered as usual and
 * sends nothing, so the cap tells nobody whether the account exists).
 */
import type { Redis } from 'ioredis'
import {
  type IRateLimiterOptions, type RateLimiterAbstract, RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis,
  RateLimiterRes, RateLimiterSQLite
} from 'rate-limiter-flexible'
import type { Config } from '../config.js'
import type { Db } from '../db/connect.js'

const LOCK_BASE_SECONDS = 60
const LOCK_MAX_SECONDS = 15 * 60
const ACCOUNT_FAILURES_PER_HOUR = 100
const CONSECUTIVE_WINDOW_SECONDS = 24 * 60 * 60
const UNBOUNDED = 1_000_000

export type ThrottleStore =
  | { kind: 'memory' }
  | { kind: 'database', db: Db }
  | { kind: 'redis', client: Redis, keyPrefix: string }

export type Verdict = { allowed: true } | {
  allowed: false
  retryAfterMs: number
  reason: 'account-locked' | 'account-hourly' | 'ip-failures' | 'ip-signups' | 'ip-resets' | 'account-reset-emails' | 'account-verification-emails'
}

export interface MailLimits {
  resetRequestsPerIpPerHour: number
  resetEmailsPerAccountPerHour: number
  verificationEmailsPerAccountPerHour: number
}

export const DEFAULT_MAIL_LIMITS: MailLimits = { resetRequestsPerIpPerHour: 10, resetEmailsPerAccountPerHour: 3, verificationEmailsPerAccountPerHour: 3 }

export interface Throttle {
  /** `email` null: a login that names no account yet (a passkey nobody registered): only the address is checked. */
  checkLogin: (email: string | null, ip: string) => Promise<Verdict>
  /** `email` null: the failure counts against the address only. */
  loginFailed: (email: string | null, ip: string) => Promise<void>
  loginSucceeded: (email: string) => Promise<void>
  /** Counts one sign-up attempt for the address; refuses once the hourly allowance is spent. */
  takeSignup: (ip: string) => Promise<Verdict>
  /** Counts one password reset request from the address. */
  takeResetRequest: (ip: string) => Promise<Verdict>
  /** Counts one reset email to the account. */
  takeResetEmail: (userId: number) => Promise<Verdict>
  /** Counts one address-confirmation email to the account. */
  takeVerificationEmail: (userId: number) => Promise<Verdict>
}

function limiterFactory (store: ThrottleStore) {
  return (name: string, options: IRateLimiterOptions): RateLimiterAbstract => {
    switch (store.kind) {
      case 'memory':
        return new RateLimiterMemory({ ...options, keyPrefix: name })
      case 'redis':
        return new RateLimiterRedis({ ...options, storeClient: store.client, keyPrefix: `${store.keyPrefix}throttle:${name}` })
      case 'database': {
        const { driver } = store.db
        // The tables come from a migration (2026-11-25T1800-throttle-counters): a new limiter needs one too.
        const tableName = `throttle_${name.replace(/-/g, '_')}`
        const shared = { ...options, tableName, tableCreated: true, clearExpiredByTimeout: true }
        return driver.kind === 'sqlite'
          ? new RateLimiterSQLite({ ...shared, storeClient: driver.statements, storeType: 'better-sqlite3' })
          : new RateLimiterPostgres({ ...shared, storeClient: driver.pool, storeType: 'pool' })
      }
    }
  }
}

/** The counter's current state, or null once its window has passed (a store may still hold the record). */
async function consumed (limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes | null> {
  const res = await limiter.get(key)
  return res !== null && res.msBeforeNext > 0 ? res : null
}

/** consume() rejects with the limiter's state once over the limit; here that is a normal outcome. */
async function count (limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes> {
  try {
    return await limiter.consume(key)
  } catch (error) {
    if (error instanceof RateLimiterRes) return error
    throw error
  }
}

export function lockSeconds (consecutiveFailures: number, maxFailures: number): number {
  if (consecutiveFailures < maxFailures) return 0
  return Math.min(LOCK_BASE_SECONDS * 2 ** Math.min(consecutiveFailures - maxFailures, 20), LOCK_MAX_SECONDS)
}

/** Counts one more use of `key`; refuses once more than `limit` were counted in the window. */
async function take (limiter: RateLimiterAbstract, key: string, limit: number, reason: Extract<Verdict, { allowed: false }>['reason']): Promise<Verdict> {
  const res = await count(limiter, key)
  return res.consumedPoints > limit ? { allowed: false, retryAfterMs: res.msBeforeNext, reason } : { allowed: true }
}

export function createThrottle (limits: Config['throttle'], store: ThrottleStore, mail: MailLimits = DEFAULT_MAIL_LIMITS): Throttle {
  const make = limiterFactory(store)
  const consecutive = make('login-consecutive', { points: UNBOUNDED, duration: CONSECUTIVE_WINDOW_SECONDS })
  const lock = make('login-lock', { points: 1, duration: LOCK_MAX_SECONDS })
  const hourly = make('login-hourly', { points: ACCOUNT_FAILURES_PER_HOUR, duration: 3600 })
  const perIp = make('login-ip', { points: limits.loginFailuresPerIpPerMinute, duration: 60 })
  const signups = make('signup-ip', { points: limits.signupsPerIpPerHour, duration: 3600 })
  const resets = make('reset-ip', { points: mail.resetRequestsPerIpPerHour, duration: 3600 })
  const resetEmails = make('reset-account', { points: mail.resetEmailsPerAccountPerHour, duration: 3600 })
  const verificationEmails = make('verify-account', { points: mail.verificationEmailsPerAccountPerHour, duration: 3600 })

  return {
    async checkLogin (email, ip) {
      const [locked, hour, address] = await Promise.all([
        email === null ? null : consumed(lock, email), email === null ? null : consumed(hourly, email), consumed(perIp, ip)
      ])
      if (locked !== null && locked.consumedPoints > 1) return { allowed: false, retryAfterMs: locked.msBeforeNext, reason: 'account-locked' }
      if (hour !== null && hour.consumedPoints >= ACCOUNT_FAILURES_PER_HOUR) return { allowed: false, retryAfterMs: hour.msBeforeNext, reason: 'account-hourly' }
      if (address !== null && address.consumedPoints >= limits.loginFailuresPerIpPerMinute) return { allowed: false, retryAfterMs: address.msBeforeNext, reason: 'ip-failures' }
      return { allowed: true }
    },

    async loginFailed (email, ip) {
      if (email === null) {
        await count(perIp, ip)
        return
      }
      const [streak] = await Promise.all([count(consecutive, email), count(hourly, email), count(perIp, ip)])
      const seconds = lockSeconds(streak.consumedPoints, limits.loginMaxFailures)
      if (seconds > 0) await lock.block(email, seconds)
    },

    async loginSucceeded (email) {
      await Promise.all([consecutive.delete(email), lock.delete(email)])
    },

    takeSignup: async (ip) => await take(signups, ip, limits.signupsPerIpPerHour, 'ip-signups'),
    takeResetRequest: async (ip) => await take(resets, ip, mail.resetRequestsPerIpPerHour, 'ip-resets'),
    takeResetEmail: async (userId) => await take(resetEmails, String(userId), mail.resetEmailsPerAccountPerHour, 'account-reset-emails'),
    takeVerificationEmail: async (userId) => await take(verificationEmails, String(userId), mail.verificationEmailsPerAccountPerHour, 'account-verification-emails')
  }
}
