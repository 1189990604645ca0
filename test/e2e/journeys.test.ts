/**
 * Journeys through the production build in Chromium, each named after the point of issue 5 it proves.
 * Every context records console errors, uncaught errors and CSP violations; after each test there must be
 * none (point 8).
 */
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  Contexts, DEMO_STAFF, PASSWORD, type RunningServer, createAccount, flash, isFocused, launchBrowser, logIn,
  navbar, newAccount, reopenedState, startServer, tabTo
} from './helpers.js'

let server: RunningServer
let browser: Browser
let contexts: Contexts

beforeAll(async () => {
  server = await startServer()
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  const errors = server?.errors() ?? []
  await server?.stop()
  expect(errors).toEqual([])
})
beforeEach(() => { contexts = new Contexts(browser, server.baseUrl) })
afterEach(async () => {
  // 8. No page logs a console error or a Content-Security-Policy violation.
  expect(await contexts.closeAll()).toEqual([])
})

describe('journeys', () => {
  it('1. a visitor signs up from the home page, is signed in (name and Log out in the navbar), then logs out', async () => {
    const { page } = await contexts.newContext()
    const account = newAccount('signup', 'Sam Visitor')
    await page.goto('/')
    await navbar(page).getByRole('link', { name: 'Sign up' }).click()
    await page.getByRole('heading', { name: 'Create your account' }).waitFor()
    await page.getByLabel('Full name').fill(account.fullName)
    await page.getByLabel('Email', { exact: true }).fill(account.email)
    await page.getByLabel('Password', { exact: true }).fill(account.password)
    await page.getByLabel('Confirm password').fill(account.password)
    await page.getByRole('button', { name: 'Sign up' }).click()

    await flash(page, 'Successfully signed up!').waitFor()
    expect(new URL(page.url()).pathname).toBe('/')
    const name = navbar(page).getByRole('link', { name: account.fullName })
    expect(await name.getAttribute('href')).toBe('/account')
    expect(await navbar(page).getByRole('button', { name: 'Log out' }).isVisible()).toBe(true)
    expect(await navbar(page).getByRole('link', { name: 'Sign up' }).count()).toBe(0)
    expect(await navbar(page).getByRole('link', { name: 'Log in' }).count()).toBe(0)

    await navbar(page).getByRole('button', { name: 'Log out' }).click()
    await navbar(page).getByRole('link', { name: 'Log in' }).waitFor()
    expect(await navbar(page).getByRole('link', { name: 'Sign up' }).isVisible()).toBe(true)
    expect(await navbar(page).getByRole('link', { name: account.fullName }).count()).toBe(0)
    expect(await navbar(page).getByRole('button', { name: 'Log out' }).count()).toBe(0)
    // The message survives Clear-Site-Data ("cookies") on the logout response, once, at a clean address.
    await flash(page, 'You have been logged out.').waitFor()
    expect(new URL(page.url()).search).toBe('')
    await page.reload()
    expect(await flash(page, 'You have been logged out.').count()).toBe(0)
  })

  it('2. a wrong password shows "Wrong credentials. Please try again."; the right one "Successfully logged in!"', async () => {
    const account = await createAccount(server.baseUrl, newAccount('credentials'))
    const { page } = await contexts.newContext()
    await page.goto('/login')
    await page.getByLabel('Email', { exact: true }).fill(account.email)
    await page.getByLabel('Password', { exact: true }).fill('not the right password')
    await page.getByRole('button', { name: 'Log in', exact: true }).click()
    const alert = page.getByRole('alert')
    await alert.waitFor()
    expect(await alert.textContent()).toBe('Wrong credentials. Please try again.')
    expect(await page.getByLabel('Email', { exact: true }).inputValue()).toBe(account.email)
    expect(await page.getByLabel('Password', { exact: true }).inputValue()).toBe('')

    await page.getByLabel('Password', { exact: true }).fill(account.password)
    await page.getByRole('button', { name: 'Log in', exact: true }).click()
    await flash(page, 'Successfully logged in!').waitFor()
    expect(await page.getByRole('status').textContent()).toBe('Successfully logged in!')
    expect(await navbar(page).getByRole('link', { name: account.fullName }).isVisible()).toBe(true)
  })

  it('3. an anonymous visitor opening /account is sent to the login page and, once logged in, lands on /account', async () => {
    const account = await createAccount(server.baseUrl, newAccount('next'))
    const { page } = await contexts.newContext()
    await page.goto('/account')
    await page.getByRole('heading', { name: 'Log in' }).waitFor()
    const login = new URL(page.url())
    expect(login.pathname).toBe('/login')
    expect(login.searchParams.get('next')).toBe('/account')

    await page.getByLabel('Email', { exact: true }).fill(account.email)
    await page.getByLabel('Password', { exact: true }).fill(account.password)
    await page.getByRole('button', { name: 'Log in', exact: true }).click()
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/account')
    expect(await flash(page, 'Successfully logged in!').isVisible()).toBe(true)
  })

  it('4. remember me: after the browser is closed and reopened, a remembered login is still signed in and an unremembered one is not', async () => {
    const account = await createAccount(server.baseUrl, newAccount('remember'))
    const remembered = await contexts.newContext()
    const forgotten = await contexts.newContext()
    await logIn(remembered.page, account, { remember: true })
    await logIn(forgotten.page, account, { remember: false })

    const sessionCookie = async (c: typeof remembered) => (await c.context.cookies()).find((k) => k.name === '__Host-paws_session')
    const persistent = await sessionCookie(remembered)
    expect(persistent?.secure).toBe(true)
    expect(persistent?.httpOnly).toBe(true)
    expect(persistent!.expires * 1000).toBeGreaterThan(Date.now() + 13 * 24 * 3600_000)
    expect((await sessionCookie(forgotten))?.expires).toBe(-1)

    // Close both browsers, then open them again from what they had saved on disk.
    const rememberedState = await reopenedState(remembered.context)
    const forgottenState = await reopenedState(forgotten.context)
    await remembered.context.close()
    await forgotten.context.close()
    const reopenedRemembered = await contexts.newContext({ storageState: rememberedState })
    const reopenedForgotten = await contexts.newContext({ storageState: forgottenState })

    await reopenedRemembered.page.goto('/')
    expect(await navbar(reopenedRemembered.page).getByRole('link', { name: account.fullName }).isVisible()).toBe(true)
    await reopenedRemembered.page.goto('/account')
    await reopenedRemembered.page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor()

    await reopenedForgotten.page.goto('/')
    expect(await navbar(reopenedForgotten.page).getByRole('link', { name: 'Log in' }).isVisible()).toBe(true)
    expect(await navbar(reopenedForgotten.page).getByRole('link', { name: account.fullName }).count()).toBe(0)
  })

  it('5. "Log out other sessions" on the account page ends the session of a second browser, whose next page load is anonymous', async () => {
    const account = await createAccount(server.baseUrl, newAccount('others'))
    const laptop = await contexts.newContext()
    const phone = await contexts.newContext()
    await logIn(laptop.page, account)
    await logIn(phone.page, account)

    await laptop.page.goto('/account')
    const sessions = laptop.page.getByRole('table', { name: 'Active sessions' })
    expect(await sessions.getByRole('row').count()).toBe(3) // the header and two sessions
    expect(await sessions.getByRole('button', { name: /^End session/ }).count()).toBe(1)
    await laptop.page.getByRole('button', { name: 'Log out other sessions' }).click()
    await flash(laptop.page, 'All your other sessions have been logged out.').waitFor()
    expect(await laptop.page.getByRole('table', { name: 'Active sessions' }).getByRole('row').count()).toBe(2)
    expect(await laptop.page.getByRole('button', { name: 'Log out other sessions' }).count()).toBe(0)

    await phone.page.reload()
    await navbar(phone.page).getByRole('link', { name: 'Log in' }).waitFor()
    expect(await navbar(phone.page).getByRole('link', { name: account.fullName }).count()).toBe(0)
    await phone.page.goto('/account')
    expect(new URL(phone.page.url()).pathname).toBe('/login')

    // The first browser is still signed in.
    await laptop.page.reload()
    expect(await navbar(laptop.page).getByRole('link', { name: account.fullName }).isVisible()).toBe(true)
  })

  it('6. staff edit a pet and see the change on the home page; an adopter sees no edit or delete controls', async () => {
    const staff = await contexts.newContext()
    await logIn(staff.page, DEMO_STAFF)
    const pets = staff.page.getByRole('list', { name: 'Pets looking for a home' })
    await pets.getByRole('link', { name: /Nelly/ }).click()
    await staff.page.getByRole('heading', { name: 'Edit this pet' }).waitFor()
    const newBio = 'Nelly has grown up: she now chases every ball in the garden.'
    await staff.page.getByLabel('Age').fill('4 months')
    await staff.page.getByLabel('Bio').fill(newBio)
    await staff.page.getByRole('button', { name: 'Save changes' }).click()
    await flash(staff.page, 'The pet has been updated.').waitFor()
    await navbar(staff.page).getByRole('link', { name: 'Home' }).click()
    const card = staff.page.getByRole('list', { name: 'Pets looking for a home' }).getByRole('listitem').filter({ hasText: newBio })
    await card.waitFor()
    expect(await card.getByRole('heading', { name: 'Nelly' }).isVisible()).toBe(true)
    expect(await card.getByText('4 months').isVisible()).toBe(true)
    const petUrl = new URL(await card.getByRole('link').getAttribute('href') ?? '', server.baseUrl).pathname

    const adopter = await contexts.newContext()
    const account = await createAccount(server.baseUrl, newAccount('adopter'))
    await logIn(adopter.page, account)
    expect(await adopter.page.getByRole('link', { name: 'Add a pet' }).count()).toBe(0)
    await adopter.page.getByRole('list', { name: 'Pets looking for a home' }).getByRole('link', { name: /Nelly/ }).click()
    await adopter.page.getByRole('heading', { name: 'Nelly', level: 1 }).waitFor()
    expect(await adopter.page.getByText(newBio).isVisible()).toBe(true)
    expect(await adopter.page.getByRole('heading', { name: 'Edit this pet' }).count()).toBe(0)
    expect(await adopter.page.getByRole('button', { name: 'Save changes' }).count()).toBe(0)
    expect(await adopter.page.getByRole('link', { name: /Delete/ }).count()).toBe(0)
    expect(await adopter.page.getByRole('button', { name: /Delete/ }).count()).toBe(0)
    expect(await adopter.page.getByRole('textbox').count()).toBe(0)
    // Typing the address of the delete page does not help either.
    const refused = await adopter.page.goto(`${petUrl}/delete`)
    expect(refused?.status()).toBe(403)
    expect(await adopter.page.getByRole('heading', { name: 'Staff only' }).isVisible()).toBe(true)
  })

  it('7. the whole login journey works with the keyboard alone (Tab, Space, Enter)', async () => {
    const account = await createAccount(server.baseUrl, newAccount('keyboard', 'Kim Keyboard'))
    const { page } = await contexts.newContext()
    await page.goto('/')

    // The first Tab stop is the skip link, shown on focus.
    await page.keyboard.press('Tab')
    const skip = page.getByRole('link', { name: 'Skip to content' })
    expect(await isFocused(skip)).toBe(true)
    const box = await skip.boundingBox()
    expect(box !== null && box.x >= 0 && box.y >= 0).toBe(true)

    await tabTo(page, navbar(page).getByRole('link', { name: 'Log in' }))
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Log in' }).waitFor()

    await tabTo(page, page.getByLabel('Email', { exact: true }))
    await page.keyboard.type(account.email)
    await page.keyboard.press('Tab')
    expect(await isFocused(page.getByLabel('Password', { exact: true }))).toBe(true)
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press('Tab')
    const remember = page.getByRole('checkbox', { name: 'Remember me on this device' })
    expect(await isFocused(remember)).toBe(true)
    await page.keyboard.press('Space')
    expect(await remember.isChecked()).toBe(true)
    await page.keyboard.press('Tab')
    expect(await isFocused(page.getByRole('button', { name: 'Log in', exact: true }))).toBe(true)
    await page.keyboard.press('Enter')

    await flash(page, 'Successfully logged in!').waitFor()
    expect(await navbar(page).getByRole('link', { name: account.fullName }).isVisible()).toBe(true)

    // Following the name to the account page, then logging out, still without a mouse.
    await tabTo(page, navbar(page).getByRole('link', { name: account.fullName }))
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor()
    await tabTo(page, navbar(page).getByRole('button', { name: 'Log out' }))
    await page.keyboard.press('Space')
    await navbar(page).getByRole('link', { name: 'Log in' }).waitFor()
  })

  it('8. the problem collector notices a CSP violation (so the check after each test means something)', async () => {
    const { page, problems } = await contexts.newContext()
    await page.goto('/about')
    await page.evaluate('document.head.appendChild(Object.assign(document.createElement("style"), { textContent: "body { color: red }" }))')
    // Both the console message and the violation event must be seen, and taken, before the check after the test.
    const seen: string[] = []
    await expect.poll(() => {
      seen.push(...problems.take())
      return seen.some((p) => p.startsWith('CSP violation: style-src')) && seen.some((p) => p.startsWith('console error:') && p.includes('Content Security Policy'))
    }, { timeout: 5_000 }).toBe(true)
  })
})
