/**
 * The rescue team's people pages in Chromium (issue 19): staff find an adopter by email, end their
 * sessions and suspend them; the adopter's other browser is logged out and cannot log in; after a
 * restore it can. Both pages pass axe at 1280 and 390 px, with screenshots in test-results/screens/.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js'
import {
  Contexts, DEMO_STAFF, type RunningServer, VIEWPORTS, type Width, createAccount, flash, launchBrowser, logIn, navbar,
  newAccount, screenshot, seriousA11yViolations, startServer
} from './helpers.js'

const SUSPENDED = 'This account is suspended. Please contact the rescue team.'

let smtp: TestSmtp
let server: RunningServer
let browser: Browser
let contexts: Contexts

beforeAll(async () => {
  smtp = await startTestSmtp()
  // Production servers need PUBLIC_URL and SMTP_URL; sign-up signs in, as the journeys expect.
  server = await startServer({ PUBLIC_URL: 'https://paws.example.org', SMTP_URL: smtp.url, REQUIRE_EMAIL_VERIFICATION: 'false' })
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  const errors = server?.errors() ?? []
  await server?.stop()
  await smtp?.close()
  expect(errors).toEqual([])
})
beforeEach(() => { contexts = new Contexts(browser, server.baseUrl) })
afterEach(async () => {
  expect(await contexts.closeAll()).toEqual([])
})

async function isLoggedIn (page: Page): Promise<boolean> {
  await page.goto('/')
  return await navbar(page).getByRole('button', { name: 'Log out' }).count() > 0
}

describe('the people pages', () => {
  it('staff find an adopter by email, end their sessions and suspend them; the adopter\'s other browser is logged out and cannot log in; after a restore it can', async () => {
    const adopter = await createAccount(server.baseUrl, newAccount('people', 'Pat Suspended'))
    const { page: laptop } = await contexts.newContext()
    const { page: phone } = await contexts.newContext(VIEWPORTS.phone)
    await logIn(laptop, adopter)
    await logIn(phone, adopter)

    const { page } = await contexts.newContext()
    await logIn(page, DEMO_STAFF)
    await navbar(page).getByRole('link', { name: 'People' }).click()
    await page.getByRole('heading', { name: 'People' }).waitFor()
    await page.getByRole('searchbox', { name: 'Find by the start of an email address or a name' }).fill(adopter.email)
    await page.getByRole('button', { name: 'Search' }).click()
    await page.getByRole('link', { name: adopter.fullName }).click()
    await page.getByRole('heading', { name: adopter.fullName }).waitFor()

    await page.getByRole('button', { name: 'End this session' }).first().click()
    await flash(page, 'That session has been ended.').waitFor()
    await page.getByRole('button', { name: 'End all sessions' }).click()
    await flash(page, 'Every session of the account has been ended.').waitFor()
    expect(await isLoggedIn(laptop)).toBe(false)
    expect(await isLoggedIn(phone)).toBe(false)

    await logIn(phone, adopter)
    expect(await isLoggedIn(phone)).toBe(true)
    await page.reload()
    await page.getByLabel('Reason for suspending').fill('Repeated no-shows at adoption meetings')
    await page.getByRole('button', { name: 'Suspend' }).click()
    await flash(page, 'The account is suspended and every one of its sessions has ended.').waitFor()

    expect(await isLoggedIn(phone)).toBe(false)
    await phone.goto('/login')
    await phone.getByLabel('Email', { exact: true }).fill(adopter.email)
    await phone.getByLabel('Password', { exact: true }).fill(adopter.password)
    await phone.getByRole('button', { name: 'Log in', exact: true }).click()
    await phone.getByRole('alert').filter({ hasText: SUSPENDED }).waitFor()
    expect(await isLoggedIn(phone)).toBe(false)

    await page.getByRole('button', { name: 'Restore' }).click()
    await flash(page, 'The account is restored: it can log in again.').waitFor()
    await logIn(phone, adopter)
    expect(await isLoggedIn(phone)).toBe(true)
  })

  for (const width of Object.keys(VIEWPORTS) as Width[]) {
    it(`both pages pass axe at ${VIEWPORTS[width].viewport.width} px, with screenshots`, async () => {
      const adopter = await createAccount(server.baseUrl, newAccount(`axe-${width}`, 'Axel Checked'))
      const { page: other } = await contexts.newContext()
      await logIn(other, adopter)
      const { page } = await contexts.newContext(VIEWPORTS[width])
      await logIn(page, DEMO_STAFF)
      await page.goto('/staff/people')
      await screenshot(page, 'people', width)
      expect(await seriousA11yViolations(page)).toEqual([])
      await page.goto(`/staff/people?q=${encodeURIComponent(adopter.email)}`)
      await page.getByRole('link', { name: adopter.fullName }).click()
      await page.getByRole('heading', { name: adopter.fullName }).waitFor()
      await screenshot(page, 'person', width)
      expect(await seriousA11yViolations(page)).toEqual([])
    })
  }
})
