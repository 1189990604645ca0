/**
 * One-time messages after a redirect. The cookie carries only a key from a fixed table, never text, so
 * nobody can make the site display words of their choosing; the message is cleared once shown.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Services } from '../services.js'
import { cookieOptions } from './cookies.js'

export const FLASH_MESSAGES = {
  'logged-in': 'Successfully logged in!',
  'logged-out': 'You have been logged out.',
  'signed-up': 'Successfully signed up!',
  'password-changed': 'Your password has been changed. Every other session has been logged out.',
  'session-ended': 'That session has been logged out.',
  'other-sessions-ended': 'All your other sessions have been logged out.',
  'pet-added': 'The pet has been added.',
  'pet-updated': 'The pet has been updated.',
  'pet-deleted': 'The pet has been deleted.',
  'password-reset': 'Your password has been reset. Please log in.',
  'email-confirmed': 'Your email address is confirmed.',
  'verification-sent': 'We have sent you a new link. Please check your email.',
  'email-change-sent': 'We have sent a link to your new address. Your email address changes once you follow it.',
  'login-expired': 'Your login took too long. Please log in again.',
  'two-factor-ended': 'Too many wrong codes. Please log in again.',
  'two-factor-disabled': 'Two-factor authentication is off.',
  'staff-two-factor-required': 'The rescue team\'s accounts need two-factor authentication. Please set it up to continue.',
  'person-suspended': 'The account is suspended and every one of its sessions has ended.',
  'person-restored': 'The account is restored: it can log in again.',
  'person-role-changed': 'The role has been changed.',
  'person-session-ended': 'That session has been ended.',
  'person-sessions-ended': 'Every session of the account has been ended.',
  'person-reset-sent': 'A password reset link is on its way to their email address.',
  'person-unchanged': 'Nothing to change: the account is already like that.',
  'passkey-added': 'Your passkey has been added.',
  'passkey-renamed': 'Your passkey has been renamed.',
  'passkey-removed': 'Your passkey has been removed. It can no longer log in.'
} as const

export type FlashKey = keyof typeof FLASH_MESSAGES
const FLASH_COOKIE_MAX_AGE_MS = 5 * 60_000

function isFlashKey (value: string | undefined): value is FlashKey {
  return value !== undefined && Object.hasOwn(FLASH_MESSAGES, value)
}

export function setFlash (reply: FastifyReply, services: Services, key: FlashKey): void {
  reply.setCookie(services.cookies.flash, key, cookieOptions(services.config.session.secureCookie, FLASH_COOKIE_MAX_AGE_MS))
}

/** Called when a page shows the message: it is not shown again. */
export function consumeFlash (request: FastifyRequest, reply: FastifyReply, services: Services): string | null {
  const key = request.cookies[services.cookies.flash]
  if (key === undefined) return null
  reply.clearCookie(services.cookies.flash, cookieOptions(services.config.session.secureCookie))
  return isFlashKey(key) ? FLASH_MESSAGES[key] : null
}
