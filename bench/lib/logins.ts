/**
 * Login load: clients that each log in again and again as a browser does, on their own keep-alive
 * connection, until stopped. Throughput counts the successful logins completed inside the measured window.
 */
import { Browser } from './browser.js'

export interface Account { email: string, password: string }

export interface LoginSample { endedAt: number, postMs: number, ok: boolean, status: number }

export interface StormResult {
  windowS: number
  logins: number
  loginsPerS: number
  postMs: number[]
  statuses: Record<string, number>
  failures: number
}

export interface Storm {
  /** Starts the measured window now (logins that end before it are warm-up). */
  markWindowStart: () => void
  stop: () => Promise<StormResult>
}

export function startLoginStorm (origin: string, accounts: readonly Account[], clients: number): Storm {
  const state = { running: true }
  let windowStart = performance.now()
  const samples: LoginSample[] = []
  const errors: string[] = []
  const loops = Array.from({ length: clients }, async (_, i) => {
    const account = accounts[i % accounts.length]!
    const browser = new Browser(origin)
    try {
      while (state.running) {
        try {
          const result = await browser.login(account.email, account.password)
          samples.push({ endedAt: performance.now(), postMs: result.postMs, ok: result.ok, status: result.status })
        } catch (error) {
          errors.push(error instanceof Error ? error.message : String(error))
          samples.push({ endedAt: performance.now(), postMs: Number.NaN, ok: false, status: 0 })
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
    } finally {
      browser.close()
    }
  })
  return {
    markWindowStart: () => { windowStart = performance.now() },
    stop: async () => {
      const windowEnd = performance.now()
      state.running = false
      await Promise.all(loops)
      const inWindow = samples.filter((s) => s.endedAt >= windowStart && s.endedAt <= windowEnd)
      const statuses: Record<string, number> = {}
      for (const s of inWindow) statuses[String(s.status)] = (statuses[String(s.status)] ?? 0) + 1
      const ok = inWindow.filter((s) => s.ok)
      const windowS = (windowEnd - windowStart) / 1000
      if (errors.length > 0) process.stderr.write(`  login client errors: ${errors.length} (first: ${errors[0]!})\n`)
      return {
        windowS,
        logins: ok.length,
        loginsPerS: ok.length / windowS,
        postMs: ok.map((s) => s.postMs),
        statuses,
        failures: inWindow.length - ok.length
      }
    }
  }
}

/** Runs the storm for a fixed time: `warmupS` not counted, then `durationS` measured. */
export async function runLogins (origin: string, accounts: readonly Account[], clients: number, warmupS: number, durationS: number): Promise<StormResult> {
  const storm = startLoginStorm(origin, accounts, clients)
  await new Promise((resolve) => setTimeout(resolve, warmupS * 1000))
  storm.markWindowStart()
  await new Promise((resolve) => setTimeout(resolve, durationS * 1000))
  return await storm.stop()
}
