/**
 * The process shell: read the configuration, build the app, listen, and close gracefully on SIGTERM or
 * SIGINT (stop accepting, finish requests in flight, close the database). With WEB_CONCURRENCY > 1 the
 * primary forks that many workers sharing the port.
 */
import cluster from 'node:cluster'
import { randomBytes } from 'node:crypto'
import { buildApp, describeDatabase } from './app.js'
import { type Config, ConfigError, loadConfig } from './config.js'

const SHUTDOWN_TIMEOUT_MS = 10_000

function readConfig (): Config {
  try {
    return loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every variable and what it expects.\n`)
      process.exit(1)
    }
    throw error
  }
}

async function runWorker (config: Config): Promise<void> {
  const app = await buildApp(config)
  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down: finishing requests in flight')
    const timer = setTimeout(() => {
      app.log.error('shutdown took too long; exiting')
      process.exit(1)
    }, SHUTDOWN_TIMEOUT_MS)
    timer.unref()
    app.close().then(() => { process.exit(0) }, (error: unknown) => {
      app.log.error({ err: error }, 'error while closing')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  const address = await app.listen({ host: config.host, port: config.port })
  app.log.info({ address, database: describeDatabase(config.database), env: config.env, pid: process.pid }, `Paws Rescue Center listening on ${address}`)
}

function runPrimary (config: Config): void {
  // Workers must share one key, or a form rendered by one worker would be refused by another.
  const env = { SECRET_KEY: process.env.SECRET_KEY ?? randomBytes(32).toString('base64url') }
  let stopping = false
  const fork = () => cluster.fork(env)
  for (let i = 0; i < config.webConcurrency; i++) fork()
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    process.stderr.write(`worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`)
    fork()
  })
  const stop = (signal: NodeJS.Signals) => {
    stopping = true
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal)
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

const config = readConfig()
if (config.webConcurrency > 1 && cluster.isPrimary) {
  runPrimary(config)
} else {
  runWorker(config).catch((error: unknown) => {
    process.stderr.write(`Could not start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    process.exit(1)
  })
}
