/**
 * Fixtures for the browser tests: the production build started on its own temporary database and port,
 * mailing to its own test SMTP server (which keeps every email for the test to read), Debian's Chromium,
 * contexts that record every console error, uncaught error and Content-Security-Policy violation, an
 * axe-core check, full-page screenshots, and accounts set up directly over HTTP.
 */
import { spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve as resolvePath } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { AxeResults } from 'axe-core'
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Locator, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest'
import { freePort } from '../helpers/ports.js'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js'

export const PROJECT_ROOT = resolvePath(fileURLToPath(new URL('.', import.meta.url)), '../..')
export const SCREENS_DIR = join(PROJECT_ROOT, 'test-results', 'screens')
const SERVER_ENTRY = join(PROJECT_ROOT, 'dist', 'src', 'server.js')
const CHROMIUM_PATH = '/usr/bin/chromium'
const SERVER_START_TIMEOUT_MS = 20_000
const SERVER_STOP_TIMEOUT_MS = 5_000
const HEALTH_POLL_INTERVAL_MS = 50
const TAB_STOPS_MAX = 30

export const DEMO_STAFF = { email: 'team@pawsrescue.co', password: 'adminpass', fullName: 'Pet Rescue Team' } as const
export const PASSWORD = 'correct horse battery 42'

export const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }
} as const satisfies Record<string, BrowserContextOptions>
export type Width = keyof typeof VIEWPORTS

// ---------------------------------------------------------------------------------------------------------
// The server

export interface RunningServer {
  /** The origin the server listens on. */
  baseUrl: string
  /** Its PUBLIC_URL, where links in its emails start: http://localhost on the same port (WebAuthn needs a domain name). */
  publicUrl: string
  /** The SMTP server at the server's SMTP_URL: the emails it sent, parsed, and a way to wait for one. */
  mail: TestSmtp
  /** What the server wrote to standard output and error (LOG_LEVEL=warn: warnings and errors only). */
  output: () => string
  /** The log lines at level error or fatal: an unhandled error in a request, for instance. */
  errors: () => string[]
  stop: () => Promise<void>
}

/**
 * Preloaded into the server: when the test process goes away without stopping it (killed, interrupted),
 * the IPC channel closes and the server shuts down instead of living on as an orphan.
 */
const PARENT_WATCHDOG = `data:text/javascript,${encodeURIComponent("process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'))")}`

const PINO_ERROR_LEVEL = 50

function errorLines (output: string): string[] {
  return output.split('\n').filter((line) => {
    try {
      const level = (JSON.parse(line) as { level?: unknown }).level
      return typeof level === 'number' && level >= PINO_ERROR_LEVEL
    } catch {
      return false
    }
  })
}

async function startOnce (dir: string, port: number, env: Record<string, string>): Promise<Omit<RunningServer, 'mail'>> {
  let output = ''
  const baseUrl = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, ['--import', PARENT_WATCHDOG, SERVER_ENTRY], {
    cwd: PROJECT_ROOT,
    // A clean environment: nothing from the test runner (NODE_OPTIONS, database URLs) leaks into the server.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'production',
      SECRET_KEY: randomBytes(36).toString('base64url'),
      SEED_DEMO_DATA: 'true',
      DATABASE_URL: join(dir, 'paws.db'),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      // The journeys create several accounts from one address; the sign-up throttle has its own tests.
      SIGNUPS_PER_IP_PER_HOUR: '100',
      // localhost, not 127.0.0.1: WebAuthn's RP ID (PUBLIC_URL's host) must be a domain name.
      PUBLIC_URL: `http://localhost:${port}`,
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  let closed = false
  const whenClosed = new Promise<true>((resolve) => child.once('close', () => {
    closed = true
    resolve(true)
  }))
  const closedWithin = async (ms: number) => await Promise.race([whenClosed, delay(ms, false, { ref: false })])

  const stop = async () => {
    if (closed) return
    child.kill('SIGTERM')
    if (!await closedWithin(SERVER_STOP_TIMEOUT_MS)) {
      child.kill('SIGKILL')
      await closedWithin(SERVER_STOP_TIMEOUT_MS)
    }
  }

  const deadline = Date.now() + SERVER_START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (closed) throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before answering:\n${output}`)
    try {
      const health = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) })
      if (health.ok) return { baseUrl, publicUrl: `http://localhost:${port}`, output: () => output, errors: () => errorLines(output), stop }
    } catch {
      // Not listening yet.
    }
    await delay(HEALTH_POLL_INTERVAL_MS)
  }
  await stop()
  throw new Error(`the server did not answer ${baseUrl}/healthz within ${SERVER_START_TIMEOUT_MS} ms:\n${output}`)
}

/**
 * Starts `node dist/src/server.js` in production mode on a fresh database and a free port, delivering its
 * emails to a test SMTP server of its own.
 */
export async function startServer (env: Record<string, string> = {}): Promise<RunningServer> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\` first (npm test does).`)
  const dir = await mkdtemp(join(tmpdir(), 'paws-e2e-'))
  const mail = await startTestSmtp()
  const cleanUp = async () => {
    await mail.close()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const server = await startOnce(dir, await freePort(), { SMTP_URL: mail.url, ...env })
        return {
          ...server,
          mail,
          stop: async () => {
            await server.stop()
            await cleanUp()
          }
        }
      } catch (error) {
        // Another process may take the port between our probe and the server's listen: try another one.
        if (attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error
      }
    }
  } catch (error) {
    await cleanUp()
    throw error
  }
}

// ---------------------------------------------------------------------------------------------------------
// The browser

export async function launchBrowser (): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
}

/** Installed before any page script: reports each CSP violation to the test through a binding. */
const CSP_LISTENER = `document.addEventListener('securitypolicyviolation', (e) => {
  window.__pawsCspViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' on ' + e.documentURI)
})`

const FAILED_LOAD = 'Failed to load resource: the server responded with a status of'

/**
 * Everything that went wrong in a context's pages. A document answered with an error status (a 404 page,
 * a 401 after a wrong password) makes Chromium log "Failed to load resource"; the test checks those pages
 * itself, so that one message is not a problem. The same message for a stylesheet or an image is.
 */
export class PageProblems {
  private readonly found: Array<{ text: string, url: string }> = []
  private readonly errorDocuments = new Set<string>()

  constructor (context: BrowserContext) {
    context.on('console', (message) => {
      if (message.type() === 'error') this.found.push({ text: `console error: ${message.text()}`, url: message.location().url })
    })
    context.on('weberror', (error) => { this.found.push({ text: `uncaught error: ${error.error().message}`, url: error.page()?.url() ?? '' }) })
    context.on('response', (response) => {
      if (response.request().resourceType() === 'document' && response.status() >= 400) this.errorDocuments.add(response.url())
    })
  }

  recordCspViolation (description: string): void {
    this.found.push({ text: `CSP violation: ${description}`, url: '' })
  }

  /** The problems so far, which are then forgotten. */
  take (): string[] {
    const problems = this.found
      .filter((p) => !(p.text.startsWith(`console error: ${FAILED_LOAD}`) && this.errorDocuments.has(p.url)))
      .map((p) => p.url === '' ? p.text : `${p.text} (${p.url})`)
    this.found.length = 0
    return problems
  }
}

export interface TrackedContext {
  context: BrowserContext
  page: Page
  problems: PageProblems
}

/** Opens browser contexts for one test (or one group of tests) and closes them all, reporting what went wrong. */
export class Contexts {
  private readonly open: TrackedContext[] = []

  constructor (private readonly browser: Browser, private readonly baseUrl: string) {}

  async newContext (options: BrowserContextOptions = {}): Promise<TrackedContext> {
    const context = await this.browser.newContext({ ...VIEWPORTS.desktop, ...options, baseURL: this.baseUrl })
    const problems = new PageProblems(context)
    await context.exposeBinding('__pawsCspViolation', (_source, description: string) => { problems.recordCspViolation(description) })
    await context.addInitScript({ content: CSP_LISTENER })
    const page = await context.newPage()
    const tracked = { context, page, problems }
    this.open.push(tracked)
    return tracked
  }

  /** Problems recorded so far in every open context, which are then forgotten. */
  problems (): string[] {
    return this.open.flatMap((c) => c.problems.take())
  }

  /** Closes every context and returns the problems they recorded since last asked. */
  async closeAll (): Promise<string[]> {
    const problems = this.problems()
    await Promise.all(this.open.map(async (c) => await c.context.close()))
    this.open.length = 0
    return problems
  }
}

export interface JourneyFixtures {
  server: RunningServer
  browser: Browser
  /** New for each test. */
  contexts: Contexts
}

/**
 * The hooks of a file of journeys: one server (started with `env`) and one Chromium for the file, new
 * contexts for each test; after each test no page may have logged a console error or violated the CSP,
 * and after the file the server may have logged no error. The fields are filled in by the hooks.
 */
export function journeyFixtures (env: Record<string, string> = {}): JourneyFixtures {
  const fixtures = {} as JourneyFixtures
  beforeAll(async () => {
    fixtures.server = await startServer(env)
    fixtures.browser = await launchBrowser()
  })
  afterAll(async () => {
    await fixtures.browser?.close()
    const errors = fixtures.server?.errors() ?? []
    await fixtures.server?.stop()
    expect(errors).toEqual([])
  })
  beforeEach(() => { fixtures.contexts = new Contexts(fixtures.browser, fixtures.server.baseUrl) })
  afterEach(async () => {
    expect(await fixtures.contexts.closeAll()).toEqual([])
  })
  return fixtures
}

/** The browser reopened: the cookies without an expiry (session cookies) are gone, the rest survive. */
export async function reopenedState (context: BrowserContext): Promise<NonNullable<BrowserContextOptions['storageState']>> {
  const state = await context.storageState()
  return { ...state, cookies: state.cookies.filter((cookie) => cookie.expires !== -1) }
}

// ---------------------------------------------------------------------------------------------------------
// Accessibility and screenshots

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const BLOCKING_IMPACTS = new Set(['serious', 'critical'])

/**
 * Runs axe-core in the page (evaluated through DevTools, so the page's CSP does not apply to it) and
 * returns one line per serious or critical violation, naming the rule and the offending elements.
 */
export async function seriousA11yViolations (page: Page): Promise<string[]> {
  if (await page.evaluate('typeof window.axe === "undefined"') === true) await page.evaluate(AXE_SOURCE)
  const results = await page.evaluate('window.axe.run({ resultTypes: ["violations"] })') as AxeResults
  return results.violations
    .filter((v) => BLOCKING_IMPACTS.has(v.impact ?? ''))
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')} [${page.url()}]`)
}

/** A full-page screenshot at test-results/screens/<name>-<width>.png. */
export async function screenshot (page: Page, name: string, width: Width): Promise<string> {
  await mkdir(SCREENS_DIR, { recursive: true })
  const path = join(SCREENS_DIR, `${name}-${width}.png`)
  await page.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide' })
  return path
}

/** The page as it is now: a screenshot for reviewers, and no serious or critical accessibility violation. */
export async function checkPage (page: Page, name: string, width: Width): Promise<void> {
  await screenshot(page, name, width)
  expect(await seriousA11yViolations(page)).toEqual([])
}

// ---------------------------------------------------------------------------------------------------------
// Accounts and navigation

export interface Account { fullName: string, email: string, password: string }

export function newAccount (label: string, fullName = 'Robin Adopter'): Account {
  return { fullName, email: `${label}-${randomUUID().slice(0, 8)}@example.com`, password: PASSWORD }
}

async function formToken (response: Response): Promise<string> {
  const token = /name="_csrf" value="([^"]+)"/.exec(await response.text())?.[1]
  if (token === undefined) throw new Error(`no form token on ${response.url}`)
  return token
}

/** The cookies a response sets, as a Cookie header (enough for the short exchanges of createAccount). */
function cookiesFrom (response: Response): string {
  return response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
}

/**
 * Creates an adopter account through the sign-up form without a browser (a fixture, not a journey), then
 * logs that session out, so the account starts with no session at all.
 */
export async function createAccount (baseUrl: string, account: Account): Promise<Account> {
  const form = await fetch(`${baseUrl}/signup`)
  const anonymous = cookiesFrom(form)
  const body = new URLSearchParams({ fullName: account.fullName, email: account.email, password: account.password, confirmPassword: account.password, _csrf: await formToken(form) })
  const created = await fetch(`${baseUrl}/signup`, { method: 'POST', body, headers: { cookie: anonymous }, redirect: 'manual' })
  if (created.status !== 303) throw new Error(`sign-up of ${account.email} answered ${created.status}`)
  const session = cookiesFrom(created).split('; ').filter((c) => c.includes('paws_session=')).join('; ')
  const confirm = await fetch(`${baseUrl}/logout`, { headers: { cookie: session } })
  const logout = await fetch(`${baseUrl}/logout`, { method: 'POST', body: new URLSearchParams({ _csrf: await formToken(confirm) }), headers: { cookie: session }, redirect: 'manual' })
  if (logout.status !== 303) throw new Error(`logging out the new account ${account.email} answered ${logout.status}`)
  return account
}

export function navbar (page: Page): Locator {
  return page.getByRole('navigation', { name: 'Main' })
}

export function flash (page: Page, text: string): Locator {
  return page.getByRole('status').filter({ hasText: text })
}

/** Logs in through the form and waits for the "Successfully logged in!" page. */
export async function logIn (page: Page, account: Pick<Account, 'email' | 'password'>, { remember = false } = {}): Promise<void> {
  await page.goto('/login')
  await page.getByLabel('Email', { exact: true }).fill(account.email)
  await page.getByLabel('Password', { exact: true }).fill(account.password)
  await page.getByRole('checkbox', { name: 'Remember me on this device' }).setChecked(remember)
  await page.getByRole('button', { name: 'Log in', exact: true }).click()
  await flash(page, 'Successfully logged in!').waitFor()
}

// The project's TypeScript has no DOM library: these are the browser names used by functions run in pages.
interface FocusableElement { outerHTML: string }
declare const document: { activeElement: FocusableElement | null, body: FocusableElement }
declare function getComputedStyle (element: FocusableElement): { outlineStyle: string, outlineWidth: string }

/** Whether the element has the keyboard focus. */
export async function isFocused (locator: Locator): Promise<boolean> {
  return await locator.evaluate((element: FocusableElement) => element === document.activeElement)
}

/**
 * Presses Tab until the element has the focus (failing after TAB_STOPS_MAX presses), and checks that every
 * element passed on the way shows a focus outline.
 */
export async function tabTo (page: Page, target: Locator): Promise<void> {
  for (let i = 0; i < TAB_STOPS_MAX; i++) {
    await page.keyboard.press('Tab')
    const unseen = await page.evaluate(() => {
      const element = document.activeElement
      if (element === null || element === document.body) return null
      const style = getComputedStyle(element)
      return style.outlineStyle === 'none' || style.outlineWidth === '0px' ? element.outerHTML.slice(0, 120) : null
    })
    if (unseen !== null) throw new Error(`the focused element shows no focus outline: ${unseen}`)
    if (await isFocused(target)) return
  }
  throw new Error(`${TAB_STOPS_MAX} presses of Tab did not reach ${String(target)}`)
}
