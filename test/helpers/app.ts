/**
 * Builds the real application for a test: its own empty database, a hand-moved clock, and the log lines
 * kept in memory so a test can read them. Cleans everything up in afterAll / afterEach via close().
 */
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppOptions } from '../../src/app.js'
import { type Config, loadConfig } from '../../src/config.js'
import { connect, type Db } from '../../src/db/connect.js'
import { type FakeClock, fakeClock } from './clock.js'
import { createTestDatabase, type TestDialect } from './database.js'

export interface TestApp {
  app: FastifyInstance
  config: Config
  clock: FakeClock
  /** A second connection to the app's database, for looking at what was stored. */
  db: Db
  logs: string[]
  close: () => Promise<void>
}

export interface TestAppOptions extends Omit<AppOptions, 'clock' | 'logStream'> {
  env?: Record<string, string>
  dialect?: TestDialect
  /** Reuse a database (to test restarts); it is then not dropped by close(). */
  databaseUrl?: string
}

export async function createTestApp (options: TestAppOptions = {}): Promise<TestApp> {
  const { env = {}, dialect, databaseUrl, ...appOptions } = options
  const database = databaseUrl === undefined ? await createTestDatabase(dialect) : { url: databaseUrl, drop: async () => {} }
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    SEED_DEMO_DATA: 'true',
    SECRET_KEY: 'test-secret-key-that-is-long-enough-0123456789',
    ...env,
    DATABASE_URL: database.url
  })
  const clock = fakeClock()
  const logs: string[] = []
  const app = await buildApp(config, { ...appOptions, clock, logStream: { write: (line) => { logs.push(line) } } })
  await app.ready()
  const db = connect(config.database)
  return {
    app,
    config,
    clock,
    db,
    logs,
    close: async () => {
      await db.close()
      await app.close()
      await database.drop()
    }
  }
}
