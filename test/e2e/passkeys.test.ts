/**
 * Passkey journeys in Chromium with a virtual authenticator over the DevTools protocol (ctap2, internal,
 * resident keys, user verification), on http://localhost (a secure context whose host can be an RP ID).
 * Every context records console errors and CSP violations; the only ones allowed are the failed answers
 * a test expects, named exactly.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  Contexts, type RunningServer, type Width, createAccount, flash, launchBrowser, logIn, navbar, newAccount, screenshot,
  seriousA11yViolations, startServer, VIEWPORTS
} from './helpers.js'

let server: RunningServer
let browser: Browser
let contexts: Contexts
let localUrl: string

beforeAll(async () => {
  server = await startServer()
  localUrl = server.baseUrl.replace('127.0.0.1', 'localhost')
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  const errors = server?.errors() ?? []
  await server?.stop()
  expect(errors).toEqual([])
})
beforeEach(() => { contexts = new Contexts(browser, localUrl) })
afterEach(async () => {
  expect(await contexts.closeAll()).toEqual([])
})

async function addAuthenticator (context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true }
  })
}

function expectedLoginFailure (status: number): string {
  return `console error: Failed to load resource: the server responded with a status of ${status} (Unauthorized) (${localUrl}/passkeys/login/verify)`
}

describe('passkeys', () => {
  it('a new account adds a passkey, logs out, logs in with it, sees it used, removes it, and can no longer log in with it', async () => {
    const account = newAccount('passkey', 'Pat Passkey')
    const { context, page, problems } = await contexts.newContext()
    await addAuthenticator(context, page)

    await page.goto('/signup')
    await page.getByLabel('Full name').fill(account.fullName)
    await page.getByLabel('Email', { exact: true }).fill(account.email)
    await page.getByLabel('Password', { exact: true }).fill(account.password)
    await page.getByLabel('Confirm password').fill(account.password)
    await page.getByRole('button', { name: 'Sign up' }).click()
    await flash(page, 'Successfully signed up!').waitFor()

    await page.goto('/account')
    const passkeys = page.getByRole('region', { name: 'Passkeys' })
    expect(await passkeys.getByText('You have no passkeys yet.').isVisible()).toBe(true)
    await passkeys.getByRole('button', { name: 'Add a passkey' }).click()
    await flash(page, 'Your passkey has been added.').waitFor()
    const rows = passkeys.getByRole('row')
    expect(await rows.count()).toBe(2)
    expect(await rows.nth(1).getByRole('cell').nth(2).textContent()).toBe('Never')
    expect(await page.getByRole('table', { name: 'The last 20 events on your account' }).getByText('Passkey added').count()).toBe(1)

    await navbar(page).getByRole('button', { name: 'Log out' }).click()
    await navbar(page).getByRole('link', { name: 'Log in' }).waitFor()

    await page.goto('/login?next=%2Faccount')
    await page.getByRole('button', { name: 'Log in with a passkey' }).click()
    await flash(page, 'Successfully logged in!').waitFor()
    expect(new URL(page.url()).pathname).toBe('/account')
    expect(await navbar(page).getByRole('link', { name: account.fullName }).isVisible()).toBe(true)
    const lastUsed = await page.getByRole('region', { name: 'Passkeys' }).getByRole('row').nth(1).getByRole('cell').nth(2).textContent()
    expect(lastUsed).not.toBe('Never')
    expect(lastUsed).toMatch(/UTC$/)

    await page.getByRole('region', { name: 'Passkeys' }).getByRole('button', { name: /^Remove/ }).click()
    await flash(page, 'Your passkey has been removed. It can no longer log in.').waitFor()
    expect(await page.getByRole('region', { name: 'Passkeys' }).getByText('You have no passkeys yet.').isVisible()).toBe(true)

    await navbar(page).getByRole('button', { name: 'Log out' }).click()
    await navbar(page).getByRole('link', { name: 'Log in' }).waitFor()
    await page.goto('/login')
    await page.getByRole('button', { name: 'Log in with a passkey' }).click()
    await page.getByRole('status').filter({ hasText: 'That passkey did not log you in.' }).waitFor()
    expect(await navbar(page).getByRole('link', { name: 'Log in' }).isVisible()).toBe(true)
    // The removed passkey's answer was refused with a 401, which Chromium logs: that one message only (a later
    // navigation over the same DevTools connection makes sure the message has arrived).
    await page.goto('/')
    expect(problems.take()).toEqual([expectedLoginFailure(401)])
  })

  it('a passkey offered in the email field\'s autofill (conditional mediation) logs in', async () => {
    const account = await createAccount(server.baseUrl, newAccount('passkey-autofill'))
    const { context, page } = await contexts.newContext()
    await addAuthenticator(context, page)
    await logIn(page, account)
    await page.goto('/account')
    await page.getByRole('button', { name: 'Add a passkey' }).click()
    await flash(page, 'Your passkey has been added.').waitFor()
    await navbar(page).getByRole('button', { name: 'Log out' }).click()
    await navbar(page).getByRole('link', { name: 'Log in' }).waitFor()

    await page.goto('/login')
    expect(await page.getByLabel('Email', { exact: true }).getAttribute('autocomplete')).toBe('username webauthn')
    // The virtual authenticator answers a conditional request at once, as if the visitor picked the passkey.
    await page.getByLabel('Email', { exact: true }).focus()
    await flash(page, 'Successfully logged in!').waitFor()
    expect(await navbar(page).getByRole('link', { name: account.fullName }).isVisible()).toBe(true)
  })

  it('an authenticator that never registered cannot log in', async () => {
    const { context, page } = await contexts.newContext()
    await addAuthenticator(context, page)
    await page.goto('/login')
    await page.getByRole('button', { name: 'Log in with a passkey' }).click()
    await page.getByRole('status').filter({ hasText: 'The passkey request was cancelled or timed out.' }).waitFor()
    expect(await navbar(page).getByRole('link', { name: 'Log in' }).isVisible()).toBe(true)
  })

  it('without JavaScript the passkey buttons do not show, a line says why, and the password form still logs in', async () => {
    const account = await createAccount(server.baseUrl, newAccount('passkey-nojs'))
    const { page } = await contexts.newContext({ javaScriptEnabled: false })
    await page.goto('/login')
    expect(await page.getByRole('button', { name: 'Log in with a passkey' }).count()).toBe(0)
    expect(await page.getByText('Logging in with a passkey needs JavaScript.').isVisible()).toBe(true)
    await logIn(page, account)
    await page.goto('/account')
    expect(await page.getByRole('button', { name: 'Add a passkey' }).count()).toBe(0)
    expect(await page.getByText('Adding a passkey needs JavaScript').isVisible()).toBe(true)
  })

  for (const width of Object.keys(VIEWPORTS) as Width[]) {
    it(`/login and /account with the passkey controls pass axe-core at ${width} width`, async () => {
      const account = await createAccount(server.baseUrl, newAccount(`passkey-axe-${width}`))
      const { page } = await contexts.newContext(VIEWPORTS[width])
      await page.goto('/login')
      await page.getByRole('button', { name: 'Log in with a passkey' }).waitFor()
      expect(await seriousA11yViolations(page)).toEqual([])
      await screenshot(page, 'passkeys-login', width)
      await logIn(page, account)
      await page.goto('/account')
      await page.getByRole('button', { name: 'Add a passkey' }).waitFor()
      expect(await seriousA11yViolations(page)).toEqual([])
      await screenshot(page, 'passkeys-account', width)
    })
  }
})
