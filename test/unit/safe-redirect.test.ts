/** `next` may only lead back into this site. */
import { describe, expect, it } from 'vitest'
import { safeNextPath } from '../../src/auth/safe-redirect.js'

describe('safeNextPath', () => {
  it.each(['/account', '/pets/3', '/pets/3?tab=1#top', '/a/b/c'])('keeps the same-site path %s', (path) => {
    expect(safeNextPath(path)).toBe(path)
  })

  it.each([
    'https://evil.example', '//evil.example', '/\\evil.example', '\\evil.example', '/\t/evil.example', '/\n/evil.example',
    'javascript:alert(1)', 'evil.example', ' /account', '', '///evil.example', 'http:evil.example', '/' + 'a'.repeat(3000), undefined, 42, ['/x']
  ])('sends %j home', (value) => {
    expect(safeNextPath(value)).toBe('/')
  })
})
