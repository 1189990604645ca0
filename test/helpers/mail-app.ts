/**
 * The real application with a test SMTP server as its mail server, for a test file that follows emailed
 * links: both start in beforeAll and close in afterAll. Read `t` and `smtp` inside tests (they exist once
 * beforeAll has run).
 */
import { afterAll, beforeAll } from 'vitest'
import { createTestApp, type TestApp } from './app.js'
import { startTestSmtp, type TestSmtp } from './smtp.js'

export function useAppWithMail (env: Record<string, string>): { readonly t: TestApp, readonly smtp: TestSmtp } {
  let t: TestApp | undefined
  let smtp: TestSmtp | undefined
  beforeAll(async () => {
    smtp = await startTestSmtp()
    t = await createTestApp({ env: { SMTP_URL: smtp.url, ...env } })
  })
  afterAll(async () => {
    await t?.close()
    await smtp?.close()
  })
  return {
    get t () { return t! },
    get smtp () { return smtp! }
  }
}
