/** Formatting shared by the pages: times in UTC, readable and unambiguous. */
import Bowser from 'bowser'
const DATE_TIME = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' })
const DATE = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' })

export function formatDateTime (ms: number): string {
  return `${DATE_TIME.format(ms)} UTC`
}

export function formatDate (ms: number): string {
  return DATE.format(ms)
}

export function isoTime (ms: number): string {
  return new Date(ms).toISOString()
}

/** "Firefox on Windows" from a user agent string; "Unknown device" when it says nothing useful. */
export function describeDevice (userAgent: string): string {
  if (userAgent === '') return 'Unknown device'
  const parsed = Bowser.parse(userAgent)
  const browser = parsed.browser.name ?? 'Unknown browser'
  const os = parsed.os.name
  return os === undefined ? browser : `${browser} on ${os}`
}
