/**
 * `next` parameters may only point back into this site: one leading slash, then a path. Anything that a
 * browser could read as another host (//evil, /\evil, schemes, control characters) falls back to home.
 */
const MAX_NEXT_LENGTH = 2048

export function safeNextPath (raw: unknown, fallback = '/'): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_NEXT_LENGTH) return fallback
  if (!raw.startsWith('/') || raw.startsWith('//')) return fallback
  // Browsers treat a backslash like a slash and drop tabs and newlines before parsing.
  if (/[\\\p{Cc}\s]/u.test(raw)) return fallback
  try {
    const url = new URL(raw, 'http://paws.invalid')
    if (url.host !== 'paws.invalid') return fallback
    return url.pathname + url.search + url.hash
  } catch {
    return fallback
  }
}
