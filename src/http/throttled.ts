/** The refusal sent when a throttle says no: 429, Retry-After, and a page saying when to try again. */
import type { Verdict } from '../auth/throttle.js'
import { HttpError } from './errors.js'

export function describeWait (ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000))
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`
  const minutes = Math.ceil(seconds / 60)
  return `${minutes} minutes`
}

export function throttledError (verdict: Extract<Verdict, { allowed: false }>, what: 'log in' | 'sign up' | 'reset a password' | 'send a link'): HttpError {
  const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))
  return new HttpError(
    429,
    'Too many attempts',
    `Too many attempts to ${what}. Please try again in ${describeWait(verdict.retryAfterMs)}.`,
    `throttled: ${verdict.reason}`,
    { 'retry-after': String(seconds) }
  )
}
