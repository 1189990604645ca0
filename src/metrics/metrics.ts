/**
 * What the application tells its operators, as a small interface the domain calls. With METRICS_PORT
 * unset every call goes to NO_METRICS, which does nothing, so the domain never needs to know whether
 * anyone is watching (and src/auth never imports prom-client); src/metrics/prometheus.ts counts them.
 */

/** Requests that matched no route share one label value, so a scan of random paths cannot grow the series. */
export const UNMATCHED_ROUTE = 'unmatched'

export const LOGIN_OUTCOMES = ['success', 'wrong_credentials', 'throttled', 'second_factor'] as const
export type LoginOutcome = typeof LOGIN_OUTCOMES[number]

export interface Metrics {
  loginOutcome: (outcome: LoginOutcome) => void
  sessionsCreated: (count: number) => void
  /** Logged out, expired, ended from the account page or replaced at login or password change. */
  sessionsEnded: (count: number) => void
  /** One password hash or verification done, in seconds of its thread's time. */
  passwordHashed: (seconds: number) => void
  /** A login or sign-up refused with 503 because the hashing queue was full. */
  passwordHashRefused: () => void
  /** How to read the number of hashes waiting for a thread; read at each scrape. */
  watchPasswordQueue: (read: () => number) => void
  /** How to read the mail outbox's state (a query on the shared database); read at each scrape. */
  watchOutbox: (read: () => Promise<OutboxState>) => void
}

export interface OutboxState {
  /** Messages not yet delivered nor given up. */
  waiting: number
  sent: number
  failed: number
  /** Age of the oldest waiting message, in seconds (0 when none waits). */
  oldestWaitingSeconds: number
}

const nothing = (): void => {}

export const NO_METRICS: Metrics = Object.freeze({
  loginOutcome: nothing,
  sessionsCreated: nothing,
  sessionsEnded: nothing,
  passwordHashed: nothing,
  passwordHashRefused: nothing,
  watchPasswordQueue: nothing,
  watchOutbox: nothing
})
