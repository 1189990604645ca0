/** Views are pure functions of their props: user text is escaped at the leaves, forms carry their token. */
import { describe, expect, it } from 'vitest'
import type { PageContext } from '../../src/views/context.js'
import { describeDevice, formatDateTime } from '../../src/views/format.js'
import { HomePage } from '../../src/views/pages/home.js'
import { LoginPage, SignupPage } from '../../src/views/pages/auth.js'

const anonymous: PageContext = { user: null, csrfToken: () => 'TOKEN', flash: null, path: '/' }
const staff: PageContext = { ...anonymous, user: { id: 1, fullName: 'Ann <b>', email: 'ann@x.co', role: 'staff' } }

describe('views', () => {
  it('the navbar escapes the user name and shows the logout form with the token', async () => {
    const html = await HomePage({ ctx: staff, pets: [] })
    expect(html).toContain('Ann &lt;b>')
    expect(html).not.toContain('Ann <b>')
    expect(html).toContain('<input type="hidden" name="_csrf" value="TOKEN"/>')
    expect(html).toContain('Add a pet')
  })

  it('the home page says so when no pet is waiting', async () => {
    expect(await HomePage({ ctx: anonymous, pets: [] })).toContain('No pets are waiting for a home right now.')
  })

  it('the login page keeps the email, never the password, and carries next in the action', async () => {
    const html = await LoginPage({ ctx: anonymous, email: 'a"b@x.co', remember: true, next: '/account', error: 'Wrong credentials. Please try again.' })
    expect(html).toContain('value="a&#34;b@x.co"')
    expect(html).toContain('action="/login?next=%2Faccount"')
    expect(html).toMatch(/type="password"(?![^>]*value=)/)
    expect(html).toContain('checked')
    expect(html).toContain('<p class="form-error" role="alert">Wrong credentials. Please try again.</p>')
  })

  it('field errors are tied to their inputs for screen readers', async () => {
    const html = await SignupPage({ ctx: anonymous, values: { fullName: '', email: '' }, errors: { email: 'Bad email' } })
    expect(html).toContain('aria-invalid="true" aria-describedby="field-email-error"')
    expect(html).toContain('<p class="field-error" id="field-email-error">Bad email</p>')
  })

  it('devices and times read well', () => {
    expect(describeDevice('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15')).toBe('Safari on macOS')
    expect(describeDevice('')).toBe('Unknown device')
    expect(formatDateTime(Date.UTC(2026, 0, 2, 3, 4))).toBe('2 Jan 2026, 03:04 UTC')
  })
})
