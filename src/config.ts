/**
 * Reads the environment exactly once, reports every invalid variable together, and returns a frozen,
 * typed configuration. Nothing below the entry points reads process.env.
 */
import { isIP } from 'node:net'
import { availableParallelism } from 'node:os'
import { isAbsolute, resolve } from 'node:path'
import { z } from 'zod'

const MINUTE_MS = 60_000
const DAY_MS = 24 * 60 * MINUTE_MS

const positiveInt = (what: string) =>
  z.coerce.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).positive({ error: `expected ${what}` })

const portNumber = (min: number) => {
  const error = `expected a port number (${min} to 65535)`
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(65535, { error })
}

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''], { error: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], { error: 'expected development, production or test' }).default('development'),
  HOST: z.string().min(1, { error: 'expected a host name or address' }).default('127.0.0.1'),
  PORT: portNumber(0).default(3000),
  DATABASE_URL: z.string().min(1, { error: 'expected a file path, a sqlite: or file: URL, or a postgres:// URL' }).default('data/paws.db'),
  DATABASE_POOL_SIZE: positiveInt('a whole number of connections, at least 1').default(10),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' }).optional(),
  REDIS_KEY_PREFIX: z.string().default('paws:'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'expected one of fatal, error, warn, info, debug, trace, silent' }).default('info'),
  TRUST_PROXY: z.string().optional(),
  SECRET_KEY: z.string().min(32, { error: 'expected at least 32 characters of random text (openssl rand -base64 48)' }).optional(),
  SECRET_KEY_PREVIOUS: z.string().min(32, { error: 'expected the previous SECRET_KEY (at least 32 characters)' }).optional(),
  SEED_DEMO_DATA: booleanFlag.optional(),
  WEB_CONCURRENCY: positiveInt('a whole number of worker processes, at least 1').default(1),
  SESSION_IDLE_TIMEOUT_MINUTES: positiveInt('a whole number of minutes').default(30),
  SESSION_ABSOLUTE_TIMEOUT_HOURS: positiveInt('a whole number of hours').default(12),
  REMEMBER_IDLE_TIMEOUT_DAYS: positiveInt('a whole number of days').default(14),
  REMEMBER_ABSOLUTE_TIMEOUT_DAYS: positiveInt('a whole number of days').default(30),
  LOGIN_MAX_FAILURES: positiveInt('a whole number of failed logins').default(5),
  LOGIN_FAILURES_PER_IP_PER_MINUTE: positiveInt('a whole number of failed logins').default(20),
  SIGNUPS_PER_IP_PER_HOUR: positiveInt('a whole number of sign-ups').default(10),
  PASSWORD_HASH_CONCURRENCY: positiveInt('a whole number of password hashes at once').optional(),
  PUBLIC_URL: z.string().optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\/[^/?#]+(:\d+)?\/?$/, { error: 'expected smtp://[user:pass@]host:port or smtps://[user:pass@]host:port' }).optional(),
  SMTP_TIMEOUT_SECONDS: positiveInt('a whole number of seconds').default(30),
  MAIL_FROM: z.string().max(320, { error: 'expected a sender such as Paws Rescue Center <no-reply@example.org>' })
    .regex(/^[^\r\n]*@[^\r\n]*$/, { error: 'expected a sender such as Paws Rescue Center <no-reply@example.org>' }).optional(),
  PASSWORD_RESET_TTL_MINUTES: positiveInt('a whole number of minutes').default(60),
  PASSWORD_RESET_EMAILS_PER_ACCOUNT_PER_HOUR: positiveInt('a whole number of emails').default(3),
  PASSWORD_RESET_REQUESTS_PER_IP_PER_HOUR: positiveInt('a whole number of requests').default(10),
  REQUIRE_EMAIL_VERIFICATION: booleanFlag.optional(),
  REQUIRE_STAFF_TWO_FACTOR: booleanFlag.optional(),
  PASSWORD_HASH_QUEUE: z.coerce.number({ error: 'expected a whole number, 0 or more' }).int().min(0, { error: 'expected a whole number, 0 or more' }).default(64),
  // Set by systemd's socket activation (docs/deploy/paws@.socket), never by hand: sd_listen_fds(3).
  LISTEN_FDS: z.coerce.number({ error: 'expected a number of sockets' }).int({ error: 'expected a number of sockets' }).min(0, { error: 'expected a number of sockets' }).optional(),
  LISTEN_PID: positiveInt('a process id').optional(),
  METRICS_PORT: portNumber(1).optional(),
  METRICS_HOST: z.string().min(1, { error: 'expected a host name or address' }).default('127.0.0.1')
})

export type DatabaseConfig =
  | { readonly kind: 'sqlite', readonly file: string }
  | { readonly kind: 'postgres', readonly url: string, readonly poolSize: number }

export interface Argon2Params {
  readonly memoryCost: number
  readonly timeCost: number
  readonly parallelism: number
}

export interface Config {
  readonly env: 'development' | 'production' | 'test'
  readonly isProduction: boolean
  readonly host: string
  readonly port: number
  /**
   * The listening socket systemd passed (always descriptor 3), or null to listen on host and port. A
   * socket that outlives the process keeps connections waiting through a restart instead of refusing them.
   */
  readonly listenFd: number | null
  readonly database: DatabaseConfig
  readonly redis: { readonly url: string, readonly keyPrefix: string } | null
  readonly logLevel: string
  /** Fastify's trustProxy: false, true, a hop count, or a list of addresses / CIDR ranges. */
  readonly trustProxy: boolean | number | string
  /**
   * Signs form tokens. Null outside production without SECRET_KEY: a key made once and kept with the data
   * is used instead (src/auth/signing-keys.ts), so it survives restarts and every instance agrees.
   */
  readonly secretKey: string | null
  /** The key before SECRET_KEY's last change: still accepted for reading while the change settles. */
  readonly previousSecretKey: string | null
  readonly seedDemoData: boolean
  readonly webConcurrency: number
  /** The Prometheus listener (a second port, never the public one), or null when off. */
  readonly metrics: { readonly host: string, readonly port: number } | null
  readonly session: {
    readonly idleTimeoutMs: number
    readonly absoluteTimeoutMs: number
    readonly rememberIdleTimeoutMs: number
    readonly rememberAbsoluteTimeoutMs: number
    /** Cookie is Secure and carries the __Host- prefix. */
    readonly secureCookie: boolean
    readonly lastSeenWriteIntervalMs: number
    readonly sweepIntervalMs: number
  }
  readonly throttle: {
    readonly loginMaxFailures: number
    readonly loginFailuresPerIpPerMinute: number
    readonly signupsPerIpPerHour: number
  }
  /** The site's origin as visitors see it: every link in an email starts with it. No trailing slash. */
  readonly publicUrl: string
  readonly mail: {
    /** null: messages are written to the log and kept (development only). */
    readonly smtpUrl: string | null
    readonly from: string
    /** Each wait of one delivery (connecting, the greeting, any reply); a claim on a message lasts 10 of these. */
    readonly timeoutMs: number
  }
  readonly recovery: {
    readonly passwordResetTtlMs: number
    readonly emailVerificationTtlMs: number
    readonly resetEmailsPerAccountPerHour: number
    readonly resetRequestsPerIpPerHour: number
    readonly verificationEmailsPerAccountPerHour: number
    readonly requireEmailVerification: boolean
  }
  readonly twoFactor: {
    /** Staff without two-factor authentication are sent to set it up before any staff page or action. */
    readonly requiredForStaff: boolean
  }
  readonly passwords: {
    readonly argon2: Argon2Params
    readonly hashConcurrency: number
    readonly hashQueue: number
  }
}

export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

function parseDatabaseUrl (raw: string, poolSize: number, cwd: string): DatabaseConfig | string {
  if (/^postgres(ql)?:\/\//.test(raw)) return { kind: 'postgres', url: raw, poolSize }
  if (raw === ':memory:') return { kind: 'sqlite', file: raw }
  let file = raw
  if (raw.startsWith('file://')) file = new URL(raw).pathname
  else if (raw.startsWith('sqlite://')) file = raw.slice('sqlite://'.length)
  else if (raw.startsWith('sqlite:') || raw.startsWith('file:')) file = raw.slice(raw.indexOf(':') + 1)
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return 'expected a file path, a sqlite: or file: URL, or a postgres:// URL'
  if (file === '') return 'expected a file path after the scheme'
  return { kind: 'sqlite', file: file === ':memory:' || isAbsolute(file) ? file : resolve(cwd, file) }
}

/** PUBLIC_URL: an http(s) origin (scheme, host, optional port) and nothing else, without a trailing slash. */
function parsePublicUrl (raw: string): string | { problem: string } {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { problem: 'expected the site\'s origin, such as https://paws.example.org' }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: 'expected an http:// or https:// origin' }
  if (url.username !== '' || url.password !== '' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    return { problem: 'expected only a scheme, a host and a port, such as https://paws.example.org (no path, query or credentials)' }
  }
  return url.origin
}

/** The host part of an address for URLs: IPv6 in brackets. */
function urlHost (host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

/** The domain of the default sender: PUBLIC_URL's host name, or localhost when that is an IP address. */
function mailDomain (publicUrl: string): string {
  const { hostname } = new URL(publicUrl)
  return isIP(hostname.replace(/^\[|\]$/g, '')) === 0 ? hostname : 'localhost'
}

const EMAIL_VERIFICATION_TTL_MS = 24 * 60 * MINUTE_MS
/** Links to confirm an address that one account may be sent in an hour (sign-up, "send a new link", email change). */
const VERIFICATION_EMAILS_PER_ACCOUNT_PER_HOUR = 3

function parseTrustProxy (raw: string | undefined): boolean | number | string | null {
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false
  if (raw === 'true') return true
  if (/^\d+$/.test(raw)) return Number(raw)
  if (/^[0-9a-f.:/, ]+$/i.test(raw) || raw.split(',').every((p) => ['loopback', 'linklocal', 'uniquelocal'].includes(p.trim()))) return raw
  return null
}

/** sd_listen_fds(3): the first socket systemd passes is descriptor 3. */
const SD_LISTEN_FDS_START = 3

/**
 * Whether systemd passed this process a socket: LISTEN_FDS counts them, and LISTEN_PID (when set) names the
 * process they are for; variables meant for another process (inherited by a child) are ignored.
 */
function parseListenFds (fds: number | undefined, pid: number | undefined, ownPid: number): number | null | string {
  if (fds === undefined || fds === 0 || (pid !== undefined && pid !== ownPid)) return null
  if (fds > 1) return 'expected 1: the app listens on one socket (one ListenStream in paws@.socket)'
  return SD_LISTEN_FDS_START
}

export function loadConfig (env: Record<string, string | undefined>, cwd = process.cwd(), ownPid = process.pid): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = envSchema.safeParse(cleaned)
  const problems: string[] = []
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment')
      problems.push(`${name}=${JSON.stringify(cleaned[name] ?? '')}: ${issue.message}`)
    }
    throw new ConfigError(problems)
  }
  const e = parsed.data
  const database = parseDatabaseUrl(e.DATABASE_URL, e.DATABASE_POOL_SIZE, cwd)
  if (typeof database === 'string') problems.push(`DATABASE_URL=${JSON.stringify(e.DATABASE_URL)}: ${database}`)
  const trustProxy = parseTrustProxy(e.TRUST_PROXY)
  if (trustProxy === null) problems.push(`TRUST_PROXY=${JSON.stringify(e.TRUST_PROXY)}: expected true, false, a hop count, or a comma-separated list of proxy addresses / CIDR ranges`)
  const isProduction = e.NODE_ENV === 'production'
  if (isProduction && e.SECRET_KEY === undefined) problems.push('SECRET_KEY: required when NODE_ENV=production (at least 32 characters of random text: openssl rand -base64 48)')
  if (e.SESSION_IDLE_TIMEOUT_MINUTES * MINUTE_MS > e.SESSION_ABSOLUTE_TIMEOUT_HOURS * 60 * MINUTE_MS) problems.push('SESSION_IDLE_TIMEOUT_MINUTES: must not be longer than SESSION_ABSOLUTE_TIMEOUT_HOURS')
  if (e.REMEMBER_IDLE_TIMEOUT_DAYS > e.REMEMBER_ABSOLUTE_TIMEOUT_DAYS) problems.push('REMEMBER_IDLE_TIMEOUT_DAYS: must not be longer than REMEMBER_ABSOLUTE_TIMEOUT_DAYS')
  if (e.WEB_CONCURRENCY > 1 && typeof database !== 'string' && database.kind === 'sqlite' && database.file === ':memory:') {
    problems.push('WEB_CONCURRENCY: workers cannot share an in-memory database (DATABASE_URL=:memory:); use a file or PostgreSQL, or one worker')
  }
  const publicUrl = parsePublicUrl(e.PUBLIC_URL ?? `http://${urlHost(e.HOST === '0.0.0.0' || e.HOST === '::' ? 'localhost' : e.HOST)}:${e.PORT}`)
  if (typeof publicUrl !== 'string') problems.push(`PUBLIC_URL=${JSON.stringify(e.PUBLIC_URL ?? '')}: ${publicUrl.problem}`)
  if (isProduction && e.PUBLIC_URL === undefined) problems.push('PUBLIC_URL: required when NODE_ENV=production (the origin visitors use, such as https://paws.example.org: links in emails start with it)')
  if (isProduction && e.SMTP_URL === undefined) problems.push('SMTP_URL: required when NODE_ENV=production (smtp://user:pass@host:587 or smtps://user:pass@host:465)')
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT === e.PORT) problems.push('METRICS_PORT: must not be PORT (the metrics are never served on the public port)')
  const listenFd = parseListenFds(e.LISTEN_FDS, e.LISTEN_PID, ownPid)
  if (typeof listenFd === 'string') problems.push(`LISTEN_FDS=${JSON.stringify(String(e.LISTEN_FDS))}: ${listenFd}`)
  // A cluster's primary closes a shared socket when its last worker stops listening, and could not listen
  // on systemd's socket again after that: socket activation runs one process per socket.
  if (listenFd !== null && e.WEB_CONCURRENCY > 1) problems.push('WEB_CONCURRENCY: with a socket from systemd (paws@.socket) run one process per socket; use more instances (ports) for more cores')
  if (problems.length > 0 || typeof database === 'string' || trustProxy === null || typeof listenFd === 'string' || typeof publicUrl !== 'string') {
    throw new ConfigError(problems)
  }

  const config: Config = {
    env: e.NODE_ENV,
    isProduction,
    host: e.HOST,
    port: e.PORT,
    listenFd,
    database,
    redis: e.REDIS_URL === undefined ? null : { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX },
    logLevel: e.LOG_LEVEL,
    trustProxy,
    secretKey: e.SECRET_KEY ?? null,
    previousSecretKey: e.SECRET_KEY_PREVIOUS ?? null,
    seedDemoData: e.SEED_DEMO_DATA ?? !isProduction,
    webConcurrency: e.WEB_CONCURRENCY,
    metrics: e.METRICS_PORT === undefined ? null : { host: e.METRICS_HOST, port: e.METRICS_PORT },
    session: {
      idleTimeoutMs: e.SESSION_IDLE_TIMEOUT_MINUTES * MINUTE_MS,
      absoluteTimeoutMs: e.SESSION_ABSOLUTE_TIMEOUT_HOURS * 60 * MINUTE_MS,
      rememberIdleTimeoutMs: e.REMEMBER_IDLE_TIMEOUT_DAYS * DAY_MS,
      rememberAbsoluteTimeoutMs: e.REMEMBER_ABSOLUTE_TIMEOUT_DAYS * DAY_MS,
      secureCookie: isProduction || trustProxy !== false,
      lastSeenWriteIntervalMs: MINUTE_MS,
      sweepIntervalMs: 10 * MINUTE_MS
    },
    throttle: {
      loginMaxFailures: e.LOGIN_MAX_FAILURES,
      loginFailuresPerIpPerMinute: e.LOGIN_FAILURES_PER_IP_PER_MINUTE,
      signupsPerIpPerHour: e.SIGNUPS_PER_IP_PER_HOUR
    },
    publicUrl,
    mail: {
      smtpUrl: e.SMTP_URL ?? null,
      from: e.MAIL_FROM ?? `Paws Rescue Center <no-reply@${mailDomain(publicUrl)}>`,
      timeoutMs: e.SMTP_TIMEOUT_SECONDS * 1000
    },
    recovery: {
      passwordResetTtlMs: e.PASSWORD_RESET_TTL_MINUTES * MINUTE_MS,
      emailVerificationTtlMs: EMAIL_VERIFICATION_TTL_MS,
      resetEmailsPerAccountPerHour: e.PASSWORD_RESET_EMAILS_PER_ACCOUNT_PER_HOUR,
      resetRequestsPerIpPerHour: e.PASSWORD_RESET_REQUESTS_PER_IP_PER_HOUR,
      verificationEmailsPerAccountPerHour: VERIFICATION_EMAILS_PER_ACCOUNT_PER_HOUR,
      requireEmailVerification: e.REQUIRE_EMAIL_VERIFICATION ?? false
    },
    twoFactor: {
      requiredForStaff: e.REQUIRE_STAFF_TWO_FACTOR ?? false
    },
    passwords: {
      argon2: { memoryCost: 19_456, timeCost: 2, parallelism: 1 },
      // One core is left for page views: a storm of logins must not starve everyone else.
      hashConcurrency: e.PASSWORD_HASH_CONCURRENCY ?? Math.max(1, availableParallelism() - 1),
      hashQueue: e.PASSWORD_HASH_QUEUE
    }
  }
  return deepFreeze(config)
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
