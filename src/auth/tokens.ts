/**
 * Session tokens are 256 random bits, sent to the browser once and stored only as their SHA-256, so a
 * leaked database cannot be replayed as cookies. Form (CSRF) tokens are HMACs bound to the visitor.
 */
import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto'

const TOKEN_BYTES = 32

export function newToken (): string {
  return randomBytes(TOKEN_BYTES).toString('base64url')
}

/** The one-shot crypto.hash (Node 20.12+): it runs on every request and costs a third of a Hash object. */
export function hashToken (token: string): string {
  return hash('sha256', token, 'hex')
}

/** Tokens we issue are base64url of 32 bytes: anything else is rejected before touching the database. */
export function looksLikeToken (value: string | undefined): value is string {
  return value !== undefined && value.length === 43 && /^[A-Za-z0-9_-]+$/.test(value)
}

export function hmac (secret: string, purpose: string, value: string): string {
  return createHmac('sha256', secret).update(`${purpose}\0${value}`).digest('base64url')
}

export function safeEqual (a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
