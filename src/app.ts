/**
 * buildApp(config): the whole application as a Fastify instance, without listening. Plugins are
 * registered in order of trust: headers and parsing, static files, then the visitor (session, flash,
 * CSRF), then the routes. Tests build it with their own configuration, database and clock.
 */
import { randomUUID } from 'node:crypto'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import fastifyStatic from '@fastify/static'
import { fastifyKitaHtml } from '@kitajs/fastify-html-plugin'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Redis } from 'ioredis'
import { createPasswordHasher, type PasswordHasher } from './auth/passwords.js'
import { type Clock, createSessionManager } from './auth/sessions.js'
import { createThrottle, type ThrottleStore } from './auth/throttle.js'
import type { Config } from './config.js'
import { connect, type Db } from './db/connect.js'
import { migrateToLatest } from './db/migrate.js'
import { seedDemoData } from './db/seed.js'
import { cookieNames } from './http/cookies.js'
import { csrfPlugin } from './http/csrf.js'
import { registerErrorPages } from './http/errors.js'
import { flashPlugin } from './http/flash.js'
import { registerSecurityHeaders } from './http/security-headers.js'
import { sessionPlugin } from './http/session.js'
import { accountRoutes } from './routes/account.js'
import { authRoutes } from './routes/auth.js'
import { pageRoutes } from './routes/pages.js'
import { petRoutes } from './routes/pets.js'
import { PUBLIC_DIR } from './paths.js'
import type { Services } from './services.js'

export const BODY_LIMIT_BYTES = 64 * 1024

export interface AppOptions {
  clock?: Clock
  /** Where log lines go (standard output by default); tests read them from here. */
  logStream?: { write: (line: string) => void }
  /** Several processes share this database (WEB_CONCURRENCY > 1): counters must not live in memory. */
  sharedDatabase?: boolean
  /** A password hasher to use instead of one built from the configuration (tests use cheaper parameters). */
  hasher?: PasswordHasher
}

export const LOG_REDACT_PATHS = [
  'req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]', 'headers.cookie', 'headers["set-cookie"]',
  '*.password', '*.currentPassword', '*.newPassword', '*.confirmPassword', '*._csrf', '*.token'
]

export function describeDatabase (config: Config['database']): string {
  if (config.kind === 'sqlite') return `sqlite:${config.file}`
  const url = new URL(config.url)
  if (url.password !== '') url.password = '***'
  return url.toString()
}

function throttleStore (config: Config, db: Db, redis: Redis | null, sharedDatabase: boolean): ThrottleStore {
  if (redis !== null) return { kind: 'redis', client: redis, keyPrefix: config.redis!.keyPrefix }
  if (db.dialect === 'postgres' || sharedDatabase) return { kind: 'database', db }
  return { kind: 'memory' }
}

export async function buildApp (config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const clock = options.clock ?? Date.now
  const serverOptions: FastifyServerOptions = {
    trustProxy: config.trustProxy as FastifyServerOptions['trustProxy'],
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 }
  }
  serverOptions.logger = {
    level: config.logLevel,
    redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
    ...(options.logStream !== undefined ? { stream: options.logStream } : {})
  }
  const app = Fastify(serverOptions)

  const db = connect(config.database)
  let redis: Redis | null = null
  app.addHook('onClose', async () => {
    clearInterval(sweepTimer)
    await db.close()
    if (redis !== null) await redis.quit()
  })

  const migrated = await migrateToLatest(db)
  const hasher = options.hasher ?? createPasswordHasher(config.passwords.argon2, {
    concurrency: config.passwords.hashConcurrency, queue: config.passwords.hashQueue
  })
  const seeded = config.seedDemoData ? await seedDemoData(db, hasher, clock()) : false
  if (config.redis !== null) {
    redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true })
    await redis.connect()
  }
  const store = throttleStore(config, db, redis, options.sharedDatabase ?? config.webConcurrency > 1)
  app.log.info({ database: describeDatabase(config.database), migrationsApplied: migrated, demoDataAdded: seeded, throttleStore: store.kind }, 'database ready')

  const sessions = createSessionManager(db, config.session, clock)
  const services: Services = { config, db, clock, hasher, sessions, cookies: cookieNames(config.session.secureCookie) }
  const throttle = createThrottle(config.throttle, store)
  const sweepTimer = setInterval(() => {
    sessions.sweep().then(
      (n) => { if (n > 0) app.log.info({ deleted: n }, 'expired sessions swept') },
      (error: unknown) => { app.log.error({ err: error }, 'session sweep failed') }
    )
  }, config.session.sweepIntervalMs)
  sweepTimer.unref()

  app.removeAllContentTypeParsers()
  await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES })
  await app.register(cookie)
  await app.register(fastifyKitaHtml)
  await registerSecurityHeaders(app, { https: config.session.secureCookie })
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/static/',
    maxAge: '1d',
    index: false,
    list: false
  })

  await app.register(sessionPlugin, { services })
  await app.register(flashPlugin, { services })
  await app.register(csrfPlugin, { services })

  // Before the routes: each route's context keeps the error handler in force when it was registered.
  registerErrorPages(app, services)
  await app.register(pageRoutes, { services })
  await app.register(authRoutes, { services, throttle })
  await app.register(accountRoutes, { services })
  await app.register(petRoutes, { services })

  return app
}
