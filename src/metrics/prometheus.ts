/**
 * The Metrics interface counted with prom-client, in a registry of this app's own (tests build several
 * apps in one process). Node's default metrics (event loop lag, heap, GC), HTTP requests by route pattern
 * and status, logins by outcome, password hashing and sessions. Every series exists from the start, at 0.
 *
 * Gauges whose value is read rather than counted (the password queue, later the mail outbox) are set by a
 * `collect` function that prom-client calls at each scrape: add a `watch…(read)` method to Metrics (a
 * no-op in NO_METRICS), and a Gauge here whose collect calls the reader. A figure read from the shared
 * database is the same in every cluster worker: give its Gauge `aggregator: 'max'`, or the primary's sum
 * counts it once per worker.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { LOGIN_OUTCOMES, type Metrics, type OutboxState, UNMATCHED_ROUTE } from './metrics.js'

/** Page views take about a millisecond; a login tens (one argon2id hash); anything past 2.5 s is trouble. */
const HTTP_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
/** One argon2id hash (19 MiB, t = 2) takes 5 to 30 ms on the machines we know. */
const HASH_BUCKETS_S = [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1]
export { UNMATCHED_ROUTE }

export interface PrometheusMetrics extends Metrics {
  readonly registry: Registry
  /** One answered request: the route's pattern (never the raw URL, which may hold a token), its status. */
  httpRequest: (method: string, route: string, statusCode: number, seconds: number) => void
}

export function createPrometheusMetrics (): PrometheusMetrics {
  const registry = new Registry()
  const registers = [registry]
  collectDefaultMetrics({ register: registry })

  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests answered, by method, route pattern and status code, and how long each took',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS_S,
    registers
  })
  const logins = new Counter({ name: 'paws_logins_total', help: 'Login attempts by outcome', labelNames: ['outcome'] as const, registers })
  for (const outcome of LOGIN_OUTCOMES) logins.inc({ outcome }, 0)
  const sessionsCreated = new Counter({ name: 'paws_sessions_created_total', help: 'Sessions started (logins, sign-ups, password changes)', registers })
  const sessionsEnded = new Counter({ name: 'paws_sessions_ended_total', help: 'Sessions ended (logout, expiry, ended by the user or replaced)', registers })
  const hashDuration = new Histogram({
    name: 'paws_password_hash_duration_seconds',
    help: 'Password hashes and verifications, by the time their thread spent on them',
    buckets: HASH_BUCKETS_S,
    registers
  })
  const hashRefused = new Counter({ name: 'paws_password_hash_refused_total', help: 'Requests answered 503 because the password hashing queue was full', registers })
  let readQueue = (): number => 0
  // eslint-disable-next-line no-new -- registered in the registry, read through it
  new Gauge({
    name: 'paws_password_hash_queue_depth',
    help: 'Password hashes waiting for a hashing thread',
    registers,
    collect () { this.set(readQueue()) }
  })

  // One query at each scrape sets all four outbox gauges; the table is shared, so a cluster takes the max.
  let readOutbox = async (): Promise<OutboxState> => ({ waiting: 0, sent: 0, failed: 0, oldestWaitingSeconds: 0 })
  let outboxReading: Promise<OutboxState> | null = null
  const outboxGauge = (name: string, help: string, pick: (state: OutboxState) => number) => new Gauge({
    name,
    help,
    registers,
    aggregator: 'max',
    async collect () {
      outboxReading ??= readOutbox().finally(() => { outboxReading = null })
      this.set(pick(await outboxReading))
    }
  })
  outboxGauge('paws_mail_outbox_waiting', 'Emails waiting in the outbox (not delivered, not given up)', (s) => s.waiting)
  outboxGauge('paws_mail_outbox_sent', 'Emails delivered (the outbox keeps their record)', (s) => s.sent)
  outboxGauge('paws_mail_outbox_failed', 'Emails given up (a permanent refusal, or a day of failures)', (s) => s.failed)
  outboxGauge('paws_mail_outbox_oldest_waiting_seconds', 'Age of the oldest email still waiting, in seconds (0 when none waits)', (s) => s.oldestWaitingSeconds)

  return {
    registry,
    httpRequest: (method, route, statusCode, seconds) => {
      httpDuration.observe({ method, route, status_code: statusCode }, seconds)
    },
    loginOutcome: (outcome) => { logins.inc({ outcome }) },
    sessionsCreated: (count) => { sessionsCreated.inc(count) },
    sessionsEnded: (count) => { if (count > 0) sessionsEnded.inc(count) },
    passwordHashed: (seconds) => { hashDuration.observe(seconds) },
    passwordHashRefused: () => { hashRefused.inc() },
    watchPasswordQueue: (read) => { readQueue = read },
    watchOutbox: (read) => { readOutbox = read }
  }
}
