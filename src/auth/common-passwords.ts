/**
 * The list of common passwords comes from @zxcvbn-ts/language-common (about 49,000 leaked passwords,
 * ranked by frequency); only those long enough to pass the length rule matter here.
 */
import { dictionary } from '@zxcvbn-ts/language-common'
import { MIN_PASSWORD_LENGTH } from './password-rules.js'

const common = new Set(
  (dictionary.passwords as string[]).filter((p) => p.length >= MIN_PASSWORD_LENGTH).map((p) => p.toLowerCase())
)

export function isCommonPassword (password: string): boolean {
  return common.has(password.toLowerCase())
}
