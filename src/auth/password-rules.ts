/** The password rules, in one place for sign-up, password change and the operator's CLI. */
export const MIN_PASSWORD_LENGTH = 8
export const MAX_PASSWORD_LENGTH = 256

/** Counts characters as people see them (code points), not UTF-16 units. */
export function passwordLength (password: string): number {
  return [...password].length
}

/** Passwords are compared in NFC so the same characters typed on different systems match. */
export function normalizePassword (password: string): string {
  return password.normalize('NFC')
}
