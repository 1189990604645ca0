/**
 * Two-factor authentication in Chromium (issue 17): an adopter sets it up by reading the secret off the
 * page (as an authenticator app would from the QR code), keeps the recovery codes, logs out, and logs in
 * with the password and then a code. axe-core checks each new page at both widths; no console errors.
 */
import { describe, expect, it } from 'vitest'
import { STEP_MS, totpCode } from '../helpers/totp.js'
import { VIEWPORTS, type Width, checkPage, createAccount, flash, journeyFixtures, logIn, navbar, newAccount } from './helpers.js'

const journey = journeyFixtures()

describe('two-factor authentication', () => {
  for (const width of Object.keys(VIEWPORTS) as Width[]) {
    it(`at ${width} width: set up from the secret on the page, keep the recovery codes, log out, log in with a code`, async () => {
      const { server, contexts } = journey
      const account = await createAccount(server.baseUrl, newAccount(`2fa-${width}`, 'Tess Twofactor'))
      const { page } = await contexts.newContext(VIEWPORTS[width])
      await logIn(page, account)

      await page.goto('/account')
      await page.getByRole('link', { name: 'Set up two-factor authentication' }).click()
      await page.getByRole('heading', { level: 1, name: 'Set up two-factor authentication' }).waitFor()
      expect(await page.getByRole('img', { name: /QR code/ }).isVisible()).toBe(true)
      await checkPage(page, 'two-factor-setup', width)
      const secret = (await page.locator('#two-factor-secret').textContent())!.replace(/\s+/g, '')
      expect(secret).toMatch(/^[A-Z2-7]{32}$/)

      await page.getByLabel('Code from your authenticator app').fill(totpCode(secret, Date.now()))
      await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click()
      await page.getByRole('heading', { level: 1, name: 'Two-factor authentication is on' }).waitFor()
      const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allTextContents()
      expect(codes).toHaveLength(10)
      await checkPage(page, 'two-factor-recovery-codes', width)
      await page.getByRole('link', { name: /I have saved them/ }).click()
      await page.getByText('On, with 10 recovery codes left.').waitFor()

      await navbar(page).getByRole('button', { name: 'Log out' }).click()
      await navbar(page).getByRole('link', { name: 'Log in' }).click()
      await page.getByLabel('Email', { exact: true }).fill(account.email)
      await page.getByLabel('Password', { exact: true }).fill(account.password)
      await page.getByRole('button', { name: 'Log in', exact: true }).click()
      await page.getByRole('heading', { level: 1, name: 'Enter your code' }).waitFor()
      expect(new URL(page.url()).pathname).toBe('/login/two-factor')
      expect(await navbar(page).getByRole('button', { name: 'Log out' }).count()).toBe(0)
      await checkPage(page, 'two-factor-login', width)

      await page.getByLabel('Code from your authenticator app').fill(totpCode(secret, Date.now()) === '000000' ? '111111' : '000000')
      await page.getByRole('button', { name: 'Log in', exact: true }).click()
      await page.getByRole('alert').filter({ hasText: 'That code is not right. Please try again.' }).waitFor()

      // The code that turned it on was used; the next step's code is accepted (one step either side).
      await page.getByLabel('Code from your authenticator app').fill(totpCode(secret, Date.now() + STEP_MS))
      await page.getByRole('button', { name: 'Log in', exact: true }).click()
      await flash(page, 'Successfully logged in!').waitFor()
      expect(await navbar(page).getByRole('link', { name: account.fullName }).isVisible()).toBe(true)
    })
  }
})
