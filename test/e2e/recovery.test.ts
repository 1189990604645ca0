/**
 * Getting back in (issue 16) through the production build in Chromium, at a desktop and a phone width: from
 * "Forgot your password?" on the login page to the email the server really sent over SMTP, its link, a new
 * password (a mismatch first), and a login with it while the old password no longer works. The reset pages
 * have no serious or critical axe-core violation, and full-page screenshots of them go to
 * test-results/screens/password-reset*-<width>.png. The link in the sign-up email confirms the address
 * with its button. No page logs a console error or violates the CSP.
 */
import type { Locator } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { linkIn } from '../helpers/smtp.js'
import {
  PASSWORD, VIEWPORTS, type Width, checkPage, createAccount, flash, journeyFixtures, logIn, navbar, newAccount
} from './helpers.js'

const RESET_ANSWER = 'If an account uses that email, a link to reset its password is on its way.'
const NEW_PASSWORD = 'a brand new password 17'
/** The reset email leaves after the answer, through the outbox: generous for a busy machine. */
const MAIL_WAIT_MS = 30_000
const JOURNEY_TIMEOUT_MS = 120_000

const journey = journeyFixtures()

/** What a screen reader reads after the field's label: the texts its aria-describedby points to. */
async function description (field: Locator): Promise<string> {
  const ids = (await field.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean)
  const texts = await Promise.all(ids.map(async (id) => await field.page().locator(`[id="${id}"]`).textContent()))
  return texts.join(' ')
}

describe('forgot your password', () => {
  for (const width of Object.keys(VIEWPORTS) as Width[]) {
    it(`at ${width} width: a reset link by email sets a new password, which logs in while the old one fails`, async () => {
      const { server, contexts } = journey
      const account = await createAccount(server.baseUrl, newAccount(`reset-${width}`, 'Riley Forgetful'))
      const { page } = await contexts.newContext(VIEWPORTS[width])

      await page.goto('/login')
      await page.getByRole('link', { name: 'Forgot your password?' }).click()
      await page.getByRole('heading', { level: 1, name: 'Reset your password' }).waitFor()
      expect(new URL(page.url()).pathname).toBe('/password-reset')
      await checkPage(page, 'password-reset', width)

      await page.getByLabel('Email', { exact: true }).fill(account.email)
      await page.getByRole('button', { name: 'Send the link' }).click()
      await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor()
      expect(await page.getByRole('status').textContent()).toBe(RESET_ANSWER)
      await checkPage(page, 'password-reset-sent', width)

      // The email the server sent over SMTP, with a link to this server (its PUBLIC_URL).
      const mail = await server.mail.waitFor((m) => m.to === account.email && m.subject.includes('Reset your password'), MAIL_WAIT_MS)
      const link = linkIn(mail, `${server.publicUrl}/password-reset/`)
      await page.goto(link)
      await page.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor()
      await checkPage(page, 'password-reset-new', width)

      // Two different passwords: the form says so where it went wrong, and nothing changes yet.
      const password = page.getByLabel('New password', { exact: true })
      const confirmation = page.getByLabel('Confirm new password')
      await password.fill(NEW_PASSWORD)
      await confirmation.fill(`${NEW_PASSWORD}!`)
      await page.getByRole('button', { name: 'Set the new password' }).click()
      await page.getByRole('alert').filter({ hasText: 'Please correct the fields marked below.' }).waitFor()
      expect(await confirmation.getAttribute('aria-invalid')).toBe('true')
      expect(await description(confirmation)).toBe('The passwords do not match.')
      expect(new URL(page.url()).pathname).toBe(new URL(link).pathname)
      await checkPage(page, 'password-reset-new-errors', width)

      await password.fill(NEW_PASSWORD)
      await confirmation.fill(NEW_PASSWORD)
      await page.getByRole('button', { name: 'Set the new password' }).click()
      await flash(page, 'Your password has been reset. Please log in.').waitFor()
      expect(new URL(page.url()).pathname).toBe('/login')
      expect(await navbar(page).getByRole('link', { name: 'Log in' }).isVisible()).toBe(true)

      // The old password no longer opens the account; the new one does.
      await page.getByLabel('Email', { exact: true }).fill(account.email)
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
      await page.getByRole('button', { name: 'Log in', exact: true }).click()
      await page.getByRole('alert').filter({ hasText: 'Wrong credentials. Please try again.' }).waitFor()
      await logIn(page, { email: account.email, password: NEW_PASSWORD })
      expect(await navbar(page).getByRole('link', { name: account.fullName }).isVisible()).toBe(true)

      // The link worked once.
      await page.goto(link)
      await page.getByRole('heading', { level: 1, name: 'Link expired' }).waitFor()
    }, JOURNEY_TIMEOUT_MS)
  }
})

describe('confirming the address', () => {
  it('the link in the sign-up email opens a page whose Confirm button confirms the address', async () => {
    const { server, contexts } = journey
    const account = await createAccount(server.baseUrl, newAccount('confirm', 'Casey Confirmed'))
    const mail = await server.mail.waitFor((m) => m.to === account.email && m.subject.includes('Confirm your email address'), MAIL_WAIT_MS)
    const { page } = await contexts.newContext()
    await page.goto(linkIn(mail, `${server.publicUrl}/verify-email/`))
    await page.getByRole('heading', { level: 1, name: 'Confirm your email address' }).waitFor()
    await checkPage(page, 'verify-email', 'desktop')
    await page.getByRole('button', { name: 'Confirm' }).click()
    await flash(page, 'Your email address is confirmed.').waitFor()
    expect(new URL(page.url()).pathname).toBe('/login')
  }, JOURNEY_TIMEOUT_MS)
})
