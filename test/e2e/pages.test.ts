/**
 * Every page, anonymous and signed in, at a desktop and a phone width: axe-core finds no serious or
 * critical violation, nothing is logged to the console and the CSP is never violated, and a full-page
 * screenshot goes to test-results/screens/<page>[-<role>]-<width>.png for reviewers.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Account, Contexts, DEMO_STAFF, type RunningServer, type TrackedContext, VIEWPORTS, type Width, createAccount,
  launchBrowser, logIn, newAccount, screenshot, seriousA11yViolations, startServer
} from './helpers.js'

type Role = 'anonymous' | 'adopter' | 'staff'

interface Visit {
  name: string
  path: string
  heading: string | RegExp
  status?: number
  /** What the visitor does on the page before it is checked (to show a form's error state). */
  act?: (page: Page) => Promise<void>
}

const NELLY = '/pets/1'

const VISITS: Record<Role, Visit[]> = {
  anonymous: [
    { name: 'home', path: '/', heading: 'Find your new best friend' },
    { name: 'about', path: '/about', heading: 'About Paws Rescue Center' },
    { name: 'pet', path: NELLY, heading: 'Nelly' },
    { name: 'login', path: '/login', heading: 'Log in' },
    {
      name: 'login-error',
      path: '/login',
      heading: 'Log in',
      act: async (page) => {
        await page.getByLabel('Email', { exact: true }).fill('nobody@example.com')
        await page.getByLabel('Password', { exact: true }).fill('not a password')
        await page.getByRole('button', { name: 'Log in', exact: true }).click()
        await page.getByRole('alert').waitFor()
      }
    },
    { name: 'signup', path: '/signup', heading: 'Create your account' },
    {
      name: 'signup-errors',
      path: '/signup',
      heading: 'Create your account',
      act: async (page) => {
        await page.getByLabel('Password', { exact: true }).fill('short')
        await page.getByRole('button', { name: 'Sign up' }).click()
        await page.getByRole('alert').waitFor()
      }
    },
    { name: 'logout', path: '/logout', heading: 'Log out' },
    { name: 'not-found', path: '/no-such-page', heading: 'Page not found', status: 404 }
  ],
  adopter: [
    { name: 'home', path: '/', heading: 'Find your new best friend' },
    { name: 'about', path: '/about', heading: 'About Paws Rescue Center' },
    { name: 'pet', path: NELLY, heading: 'Nelly' },
    { name: 'account', path: '/account', heading: 'Your account' },
    { name: 'logout', path: '/logout', heading: 'Log out' },
    { name: 'not-found', path: '/no-such-page', heading: 'Page not found', status: 404 },
    { name: 'staff-only', path: `${NELLY}/delete`, heading: 'Staff only', status: 403 }
  ],
  staff: [
    { name: 'home', path: '/', heading: 'Find your new best friend' },
    { name: 'pet', path: NELLY, heading: 'Nelly' },
    { name: 'pet-new', path: '/pets/new', heading: 'Add a pet' },
    { name: 'pet-delete', path: `${NELLY}/delete`, heading: 'Delete Nelly?' },
    { name: 'account', path: '/account', heading: 'Your account' }
  ]
}

let server: RunningServer
let browser: Browser
let adopter: Account

beforeAll(async () => {
  server = await startServer()
  browser = await launchBrowser()
  adopter = await createAccount(server.baseUrl, newAccount('pages', 'Alex Adopter'))
})
afterAll(async () => {
  await browser?.close()
  const errors = server?.errors() ?? []
  await server?.stop()
  expect(errors).toEqual([])
})

for (const width of Object.keys(VIEWPORTS) as Width[]) {
  for (const role of Object.keys(VISITS) as Role[]) {
    describe(`${role} at ${width} width`, () => {
      let contexts: Contexts
      let tab: TrackedContext

      beforeAll(async () => {
        contexts = new Contexts(browser, server.baseUrl)
        tab = await contexts.newContext(VIEWPORTS[width])
        if (role === 'adopter') await logIn(tab.page, adopter, { remember: true })
        if (role === 'staff') await logIn(tab.page, DEMO_STAFF)
        tab.problems.take()
      })
      afterAll(async () => {
        expect(await contexts?.closeAll()).toEqual([])
      })

      for (const visit of VISITS[role]) {
        const shot = role === 'anonymous' ? visit.name : `${visit.name}-${role}`
        it(`${shot}: ${visit.path}`, async () => {
          const { page } = tab
          const response = await page.goto(visit.path)
          expect(response?.status()).toBe(visit.status ?? 200)
          await visit.act?.(page)
          await page.getByRole('heading', { level: 1, name: visit.heading }).waitFor()
          if (role !== 'anonymous') await page.getByRole('button', { name: 'Log out' }).first().waitFor()
          await screenshot(page, shot, width)
          const violations = await seriousA11yViolations(page)
          expect({ violations, problems: tab.problems.take() }).toEqual({ violations: [], problems: [] })
        })
      }
    })
  }
}
