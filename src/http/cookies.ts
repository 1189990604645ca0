/**
 * Cookie names and attributes in one place. With a Secure cookie the names carry the __Host- prefix, so
 * the browser only accepts them from this exact host over HTTPS with Path=/ (no sub-domain can plant one).
 */
import type { CookieSerializeOptions } from '@fastify/cookie'

export interface CookieNames {
  session: string
  csrf: string
  flash: string
  /** A right password waiting for its second factor (two-factor.ts). */
  pendingLogin: string
  /** A WebAuthn ceremony's challenge waiting for the browser's answer (passkeys.ts). */
  webauthn: string
}

export function cookieNames (secure: boolean): CookieNames {
  const prefix = secure ? '__Host-' : ''
  return { session: `${prefix}paws_session`, csrf: `${prefix}paws_csrf`, flash: `${prefix}paws_flash`, pendingLogin: `${prefix}paws_pending`, webauthn: `${prefix}paws_webauthn` }
}

export function cookieOptions (secure: boolean, maxAgeMs?: number | null): CookieSerializeOptions {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    ...(maxAgeMs !== undefined && maxAgeMs !== null ? { maxAge: Math.floor(maxAgeMs / 1000) } : {})
  }
}
