/**
 * buildApp(config): the whole application as a Fastify instance, without listening. Plugins are
 * registered in order of trust: headers and parsing, static files, then the visitor (session,
 * CSRF), then the routes. Tests build it with their own configuration, database and clock.
 */
import { randomUUID } from 'node:crypto'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import fastifyStatic from '@fastify/static'
import { pino } from 'pino'
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { Redis } from 'ioredis'
import { createPasswordHasher, type PasswordHasher } from './auth/passwords.js'
import { type Clock, createSessionManager } from './auth/sessions.js'
import { resolveSigningKeys } from './auth/signing-keys.js'
import { createThrottle, type ThrottleStore } from './auth/throttle.js'
import { redactTokenPaths } from './http/token-paths.js'
import { createOutbox, type Outbox } from './mail/outbox.js'
import { createSecretBox } from './auth/secret-box.js'
import { resealTwoFactorSecrets } from './auth/two-factor.js'
import { deleteExpiredPendingLogins } from './db/queries/two-factor.js'
import { deleteExpiredChallenges } from './db/queries/passkeys.js'
import { createMailTransport } from './mail/transport.js'
import { outboxCounts } from './db/queries/outbox.js'
import type { Config } from './config.js'
import { connect, type Db } from './db/connect.js'
import { migrateToLatest } from './db/migrate.js'
import { seedDemoData } from './db/seed.js'
import { cookieNames } from './http/cookies.js'
import { csrfPlugin } from './http/csrf.js'
import { BODY_LIMIT_BYTES } from './http/forms.js'
import { registerErrorPages } from './http/errors.js'
import { measureRequests } from './http/metrics.js'
import { requestLogger } from './http/request-logger.js'
import { AccessLog } from './http/access-log.js'
import { registerSecurityHeaders } from './http/security-headers.js'
import { sessionPlugin } from './http/session.js'
import { accountRoutes } from './routes/account.js'
import { authRoutes } from './routes/auth.js'
import { pageRoutes } from './routes/pages.js'
import { petRoutes } from './routes/pets.js'
import { recoveryRoutes } from './routes/recovery.js'
import { staffPeopleRoutes } from './routes/staff-people.js'
import { verificationRoutes } from './routes/verification.js'
import { twoFactorRoutes } from './routes/two-factor.js'
import { passkeyRoutes } from './routes/passkeys.js'
import { PUBLIC_DIR, WEBAUTHN_BROWSER_BUNDLE_DIR } from './paths.js'
import { WEBAUTHN_BROWSER_PREFIX } from './views/components/passkey-script.js'
import { createPetCatalog } from './pets/catalog.js'
import { NO_METRICS } from './metrics/metrics.js'
import type { PrometheusMetrics } from './metrics/prometheus.js'
import type { Services } from './services.js'
import { deleteExpiredTokens } from './db/queries/one-time-tokens.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This process's mail sender (tests drive it: deliverDue, idle). */
    outbox: Outbox
  }
}

export { BODY_LIMIT_BYTES }

export interface AppOptions {
  clock?: Clock
  /**
   * Where log lines go: standard output, written synchronously, by default; src/server.ts passes its
   * buffered output (src/log-output.ts), and tests read the lines from here.
   */
  logStream?: { write: (line: string) => void }
  /** Several processes share this database (WEB_CONCURRENCY > 1): counters must not live in memory. */
  sharedDatabase?: boolean
  /** A password hasher to use instead of one built from the configuration (tests use cheaper parameters). */
  hasher?: PasswordHasher
  /**
   * Counts requests, logins, hashes and sessions into these (src/server.ts makes them when METRICS_PORT is
   * set, and serves them on its own port). Absent, nothing is measured and no hook is added.
   */
  metrics?: PrometheusMetrics
}

export const LOG_REDACT_PATHS = [
  'req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]', 'headers.cookie', 'headers["set-cookie"]',
  '*.password', '*.currentPassword', '*.newPassword', '*.confirmPassword', '*.disablePassword', '*._csrf', '*.token',
  'req.headers["x-csrf-token"]', '*.challenge', '*.response', '*.publicKey'
]

export function describeDatabase (config: Config['database']): string {
  if (config.kind === 'sqlite') return `sqlite:${config.file}`
  const url = new URL(config.url)
  if (url.password !== '') url.password = '***'
  return url.toString()
}

/**
 * TRUST_PROXY as Fastify takes it. A hop count means "trust the nearest N hops, whoever they are" (as in
 * Express); Fastify would otherwise trust nothing for a bare number, so it becomes that function here.
 * Addresses are the safer choice: they are checked against the connection's actual peer.
 */
function fastifyTrustProxy (trustProxy: Config['trustProxy']): FastifyServerOptions['trustProxy'] {
  return typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : trustProxy
}

/**
 * Where the throttling counters live: Redis when configured; otherwise the database, which every process
 * sharing it sees (another instance, a cluster worker); memory only for a private in-memory database.
 */
function throttleStore (config: Config, db: Db, redis: Redis | null, sharedDatabase: boolean): ThrottleStore {
  if (redis !== null) return { kind: 'redis', client: redis, keyPrefix: config.redis!.keyPrefix }
  const privateDatabase = config.database.kind === 'sqlite' && config.database.file === ':memory:'
  if (!privateDatabase || sharedDatabase) return { kind: 'database', db }
  return { kind: 'memory' }
}

async function connectRedis (url: string, log: FastifyInstance['log']): Promise<Redis> {
  // Loaded only when REDIS_URL is set: without it the client would only take memory.
  const ioredis = await import('ioredis')
  const redis = new ioredis.Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true })
  let firstError: Error | undefined
  const onStartError = (error: Error) => { firstError ??= error }
  redis.on('error', onStartError)
  try {
    await redis.connect()
  } catch (error) {
    redis.disconnect()
    const where = new URL(url)
    if (where.password !== '') where.password = '***'
    const cause = firstError ?? (error instanceof Error ? error : new Error(String(error)))
    throw new Error(`Redis at ${where.toString()} does not answer (REDIS_URL): ${cause.message}`)
  }
  redis.off('error', onStartError)
  redis.on('error', (error: Error) => { log.warn({ err: error }, 'redis connection error') })
  return redis
}

export async function buildApp (config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const clock = options.clock ?? Date.now
  const logStream = options.logStream ?? pino.destination({ dest: 1, sync: true })
  const serverOptions: FastifyServerOptions = {
    trustProxy: fastifyTrustProxy(config.trustProxy),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    childLoggerFactory: requestLogger,
    // One access line per request instead of Fastify's two (src/http/access-log.ts).
    logController: new AccessLog(config.logLevel, logStream),
    // While closing, requests that already reached this process are still answered (with Connection: close),
    // not refused: a rolling restart then loses none of them.
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 }
  }
  serverOptions.logger = {
    level: config.logLevel,
    redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
    // Links from emails carry their token in the path: the log shows the path without it.
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactTokenPaths(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort
      })
    },
    stream: logStream
  }
  const app = Fastify(serverOptions)

  const db = connect(config.database, { onIdleError: (error) => { app.log.warn({ err: error }, 'idle database connection lost') } })
  let redis: Redis | null = null
  // While closing, answers to requests still in flight ask the client to drop the connection, so an
  // idle keep-alive socket cannot hold the shutdown open.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
  app.addHook('onClose', async () => {
    clearInterval(sweepTimer)
    await outbox.close()
    if (options.hasher === undefined) await hasher.close?.()
    await db.close()
    if (redis !== null) await redis.quit()
  })

  // The in-process caches (sessions, the pet list) check the database's change mark at most once per
  // request, and never with a value read before the request began (src/db/change-signal.ts).
  const changes = db.changes
  app.addHook('onRequest', (_request, _reply, done) => { changes.refresh(); done() })

  const migrated = await migrateToLatest(db)
  const metrics = options.metrics ?? NO_METRICS
  const hasher = options.hasher ?? createPasswordHasher(config.passwords.argon2, {
    concurrency: config.passwords.hashConcurrency,
    queue: config.passwords.hashQueue,
    observer: { hashed: metrics.passwordHashed, refused: metrics.passwordHashRefused }
  })
  metrics.watchPasswordQueue(() => hasher.waiting?.() ?? 0)
  const keys = await resolveSigningKeys(config, db)
  const seeded = config.seedDemoData ? await seedDemoData(db, hasher, clock()) : false
  if (config.redis !== null) redis = await connectRedis(config.redis.url, app.log)
  const store = throttleStore(config, db, redis, options.sharedDatabase ?? config.webConcurrency > 1)
  app.log.info({ database: describeDatabase(config.database), migrationsApplied: migrated, demoDataAdded: seeded, throttleStore: store.kind, signingKey: config.secretKey === null ? 'kept with the data' : 'SECRET_KEY' }, 'database ready')

  const sessions = createSessionManager(db, config.session, clock, metrics)
  const throttle = createThrottle(config.throttle, store, config.recovery)
  const transport = createMailTransport(config.mail, app.log)
  const outbox = createOutbox({ db, clock, transport, log: app.log, timeoutMs: config.mail.timeoutMs })
  app.decorate('outbox', outbox)
  metrics.watchOutbox(async () => {
    const counts = await outboxCounts(db.kysely)
    return { ...counts, oldestWaitingSeconds: counts.oldestWaitingAt === null ? 0 : Math.max(0, (clock() - counts.oldestWaitingAt) / 1000) }
  })
  app.log.info({ mail: transport.description, publicUrl: config.publicUrl }, 'mail ready')
  const services: Services = {
    config,
    db,
    clock,
    hasher,
    sessions,
    throttle,
    outbox,
    cookies: cookieNames(config.session.secureCookie),
    pets: createPetCatalog(db),
    keys,
    metrics,
    twoFactorSecrets: createSecretBox([keys.current, ...keys.previous], 'two-factor secrets')
  }
  app.decorate('services', services)
  if (keys.previous.length > 0) {
    const resealed = await resealTwoFactorSecrets(services)
    if (resealed > 0) app.log.info({ accounts: resealed }, 'two-factor secrets sealed again with the current key')
  }
  const sweepTimer = setInterval(() => {
    Promise.all([sessions.sweep(), deleteExpiredTokens(db.kysely, clock()), deleteExpiredPendingLogins(db.kysely, clock()), deleteExpiredChallenges(db.kysely, clock())]).then(
      ([n, links, pending, challenges]) => {
        if (n + links + pending + challenges > 0) app.log.info({ deleted: n, expiredLinks: links, expiredPendingLogins: pending, expiredChallenges: challenges }, 'expired sessions and links swept')
      },
      (error: unknown) => { app.log.error({ err: error }, 'session sweep failed') }
    )
  }, config.session.sweepIntervalMs)
  sweepTimer.unref()

  if (options.metrics !== undefined) measureRequests(app, options.metrics)
  app.removeAllContentTypeParsers()
  await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES })
  await app.register(cookie)
  await registerSecurityHeaders(app, { https: config.session.secureCookie })
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/static/',
    maxAge: '1d',
    index: false,
    list: false
  })

  // @simplewebauthn/browser's prebuilt bundle, straight from the installed package (the version package.json pins).
  await app.register(fastifyStatic, {
    root: WEBAUTHN_BROWSER_BUNDLE_DIR,
    prefix: WEBAUTHN_BROWSER_PREFIX,
    maxAge: '1d',
    index: false,
    list: false,
    decorateReply: false,
    allowedPath: (path) => path === '/index.umd.min.js'
  })

  await app.register(sessionPlugin, { services })
  await app.register(csrfPlugin, { services })

  // Before the routes: each route's context keeps the error handler in force when it was registered.
  registerErrorPages(app, services)
  await app.register(pageRoutes, { services })
  await app.register(authRoutes, { services })
  await app.register(recoveryRoutes, { services })
  await app.register(verificationRoutes, { services })
  await app.register(accountRoutes, { services })
  await app.register(twoFactorRoutes, { services })
  await app.register(passkeyRoutes, { services })
  await app.register(petRoutes, { services })
  await app.register(staffPeopleRoutes, { services })

  outbox.start()
  return app
}
