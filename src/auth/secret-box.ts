/**
 * Secrets the server must read back (two-factor TOTP secrets) are kept encrypted at rest with AES-256-GCM,
 * under a key derived from SECRET_KEY with HKDF for this purpose alone: a copy of the database without
 * the key yields nothing, and a tampered value fails to open. Several keys may be given, the current one
 * first: values are sealed with it and opened with whichever key sealed them (a key being rotated).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16

export interface SecretBox {
  seal: (plaintext: string) => string
  /** The plaintext, or null when no key opens the value (wrong key, tampered, not ours). */
  open: (sealed: string) => string | null
  /** The value sealed again with the current key, when an older key sealed it; null when it needs nothing (or opens with no key). */
  reseal: (sealed: string) => string | null
}

function deriveKey (secretKey: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, 'paws-rescue-center', `${purpose}:${VERSION}`, 32))
}

export function createSecretBox (secretKeys: readonly string[], purpose: string): SecretBox {
  if (secretKeys.length === 0) throw new Error('a secret box needs at least one key')
  const keys = secretKeys.map((k) => deriveKey(k, purpose))
  return {
    seal (plaintext) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', keys[0]!, iv)
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()])
      return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`
    },
    open (sealed) {
      return openWith(sealed)?.plaintext ?? null
    },
    reseal (sealed) {
      const opened = openWith(sealed)
      return opened === null || opened.keyIndex === 0 ? null : this.seal(opened.plaintext)
    }
  }

  function openWith (sealed: string): { plaintext: string, keyIndex: number } | null {
    const [version, ivText, bodyText] = sealed.split('.')
    if (version !== VERSION || ivText === undefined || bodyText === undefined) return null
    const iv = Buffer.from(ivText, 'base64url')
    const body = Buffer.from(bodyText, 'base64url')
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) return null
    for (const [keyIndex, key] of keys.entries()) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv)
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES))
        const plaintext = Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8')
        return { plaintext, keyIndex }
      } catch {
        // Not this key: try the next one.
      }
    }
    return null
  }
}
