/**
 * The paths that carry a token from an emailed link. They are named once here: the log writes them
 * without the token, and their pages tell the browser to send no Referer anywhere.
 */
import { PASSWORD_RESET_PATH, VERIFY_EMAIL_PATH } from '../auth/account-mail.js'

const TOKEN_PATH = new RegExp(`^(${[PASSWORD_RESET_PATH, VERIFY_EMAIL_PATH].join('|')})/[^?#]*`)

/** The URL as the log may show it: any token path segment (and everything after it) replaced. */
export function redactTokenPaths (url: string): string {
  return url.replace(TOKEN_PATH, '$1/[redacted]')
}
