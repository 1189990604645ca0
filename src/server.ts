/**
 * The process shell: read the configuration, build the app, listen, and close gracefully on SIGTERM or
 * SIGINT (stop accepting, finish requests in flight, close the database). With WEB_CONCURRENCY > 1 the
 * primary forks that many workers sharing the port, replaces a worker that dies, replaces them one by one
 * on SIGHUP (a rolling restart onto the code now on disk), and gives up when workers cannot start.
 * With METRICS_PORT set, /metrics is served on a port of its own: by the process itself, or in a cluster by
 * the primary, as the sum of its workers' figures.
 */
import cluster, { type Worker } from 'node:cluster'
import type { Server as HttpServer } from 'node:http'
import { Server } from 'node:net'
import type { FastifyInstance, FastifyListenOptions } from 'fastify'
import { buildApp, describeDatabase } from './app.js'
import { type Config, ConfigError, loadConfig } from './config.js'
import { createLogOutput, exitOnUncaughtException } from './log-output.js'
import { describeAddress, listenForScrapes, type Scrape } from './metrics/listener.js'
import type { PrometheusMetrics } from './metrics/prometheus.js'

const SHUTDOWN_TIMEOUT_MS = 10_000
/** Between refusing new connections and closing the rest: see stopAccepting(). */
const ACCEPTED_GRACE_MS = 500
/** A worker that has not listened within this time is taken for failed. */
const WORKER_START_TIMEOUT_MS = 60_000
const RESTART_DELAY_MS = 1_000

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

/**
 * A cluster worker that has closed its server says goodbye before exiting. The primary may have handed it
 * a connection just before learning that the server closed; the worker answers "not accepted" (and the
 * primary gives it to another worker) only if it is still there to read the message. Exiting at once
 * would leave that connection hanging, unanswered, in the primary.
 */
async function leaveCluster (): Promise<void> {
  const worker = cluster.worker
  if (worker === undefined || !worker.isConnected()) return
  await new Promise<void>((resolve) => {
    worker.once('disconnect', () => { resolve() })
    worker.disconnect()
  })
}

/**
 * Closes the listening socket only, while connections already accepted keep going. Closing the HTTP server
 * itself would also drop every connection without a request yet, including one accepted a moment ago whose
 * request is on its way; the proxy, having sent that request, gets a reset and cannot resend a POST.
 * app.close() comes ACCEPTED_GRACE_MS later, when such requests have arrived and are answered in full.
 *
 * A socket this process opened is gone once closed: new connections are refused (a proxy then tries
 * another instance), but the kernel resets any it had queued in the instant before. A socket from systemd
 * (paws@.socket) outlives the process: connections keep queueing in it and the next process answers them.
 */
function stopAccepting (app: FastifyInstance): void {
  if (app.server.listening) Server.prototype.close.call(app.server)
}

/**
 * Where to listen: HOST and PORT, or the socket systemd passed (socket activation). Fastify hands its
 * options to net.Server#listen, which takes `fd` and then ignores the host; naming a host other than
 * `localhost` keeps Fastify from binding a second address beside it.
 */
function listenOptions (config: Config): FastifyListenOptions {
  if (config.listenFd === null) return { host: config.host, port: config.port }
  const options: FastifyListenOptions & { fd: number } = { fd: config.listenFd, host: '0.0.0.0' }
  return options
}

/** The metrics of this process; prom-client is loaded only when METRICS_PORT is set. */
async function processMetrics (config: Config): Promise<PrometheusMetrics | undefined> {
  if (config.metrics === null) return undefined
  const { createPrometheusMetrics } = await import('./metrics/prometheus.js')
  const metrics = createPrometheusMetrics()
  if (cluster.isWorker) {
    // The primary asks each worker for its registry over the cluster's channel and serves the sum.
    const { AggregatorRegistry } = await import('prom-client')
    AggregatorRegistry.setRegistries([metrics.registry])
    // eslint-disable-next-line no-new -- constructing it is what makes this worker answer the primary
    new AggregatorRegistry()
  }
  return metrics
}

async function serveMetrics (config: Config, scrape: Scrape, log: (message: string) => void): Promise<HttpServer | null> {
  if (config.metrics === null) return null
  const server = await listenForScrapes(config.metrics, scrape, (error) => { log(`metrics scrape failed: ${String(error)}`) })
  log(`metrics at ${describeAddress(server)}`)
  return server
}

async function runWorker (config: Config): Promise<void> {
  const metrics = await processMetrics(config)
  const logOutput = createLogOutput()
  const app = await buildApp(config, { metrics, logStream: logOutput.stream })
  exitOnUncaughtException(app.log, logOutput)
  logOutput.reportDropsTo(app.log)
  let metricsServer: HttpServer | null = null
  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down: finishing requests in flight')
    const timer = setTimeout(() => {
      app.log.error('shutdown took too long; exiting')
      // pino's exit hook writes the buffered lines before the process ends.
      process.exit(1)
    }, SHUTDOWN_TIMEOUT_MS)
    timer.unref()
    stopAccepting(app)
    setTimeout(() => {
      metricsServer?.close()
      app.close().then(leaveCluster).then(async () => {
        app.log.info('closed')
        await logOutput.flush()
        process.exit(0)
      }, async (error: unknown) => {
        app.log.error({ err: error }, 'error while closing')
        await logOutput.flush()
        process.exit(1)
      })
    }, ACCEPTED_GRACE_MS)
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  // A worker's figures are served by the primary, summed with the others'.
  if (metrics !== undefined && !cluster.isWorker) {
    metricsServer = await serveMetrics(config, { contentType: metrics.registry.contentType, read: async () => await metrics.registry.metrics() }, (message) => { app.log.info(message) })
  }
  const address = await app.listen(listenOptions(config))
  app.log.info({ address, database: describeDatabase(config.database), env: config.env, pid: process.pid }, `Paws Rescue Center listening on ${address}`)
  // The start's lines are out at once, not when the buffer fills or a second has passed.
  await logOutput.flush()
}

function say (message: string): void {
  process.stderr.write(`[primary ${process.pid}] ${message}\n`)
}

async function runPrimary (config: Config): Promise<void> {
  // Without SECRET_KEY, the workers agree on a key all the same: the one kept with the data they share.
  const env = {}
  let metricsServer: HttpServer | null = null
  if (config.metrics !== null) {
    const { AggregatorRegistry } = await import('prom-client')
    const sum = new AggregatorRegistry()
    metricsServer = await serveMetrics(config, { contentType: sum.contentType, read: async () => await sum.clusterMetrics() }, say)
  }
  const maxFailedStarts = Math.max(3, 2 * config.webConcurrency)
  const listening = new Set<number>()
  const retiring = new Set<number>()
  let failedStarts = 0
  let stopping = false
  let rolling = false

  const fork = (): Worker => {
    const worker = cluster.fork(env)
    worker.once('listening', () => {
      listening.add(worker.id)
      failedStarts = 0
    })
    return worker
  }

  const stop = (signal: NodeJS.Signals, exitCode: number) => {
    if (stopping) return
    stopping = true
    process.exitCode = exitCode
    metricsServer?.close()
    say(`${signal}: stopping ${Object.keys(cluster.workers ?? {}).length} worker(s)`)
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal)
    // Workers finish their requests within their own timeout; one that hangs past it is ended.
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL')
    }, SHUTDOWN_TIMEOUT_MS + 2_000).unref()
  }

  cluster.on('exit', (worker, code, signal) => {
    const hadStarted = listening.delete(worker.id)
    if (stopping || retiring.delete(worker.id)) return
    if (!hadStarted && ++failedStarts >= maxFailedStarts) {
      say(`${failedStarts} workers in a row exited before listening; giving up (see the errors above)`)
      stop('SIGTERM', 1)
      return
    }
    say(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`)
    // Not unref()d: with every worker gone, this timer is what keeps the primary alive until the next fork.
    setTimeout(() => { if (!stopping) fork() }, hadStarted ? 0 : RESTART_DELAY_MS)
  })

  /** Replaces the workers one at a time; each old one is stopped only once its successor listens. */
  const rollingRestart = async () => {
    if (rolling || stopping) return
    rolling = true
    const old = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)
    say(`SIGHUP: rolling restart of ${old.length} worker(s)`)
    try {
      for (const previous of old) {
        if (stopping) return
        if (previous.isDead()) continue
        const next = fork()
        const started = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => { resolve(false) }, WORKER_START_TIMEOUT_MS)
          next.once('listening', () => { clearTimeout(timer); resolve(true) })
          next.once('exit', () => { clearTimeout(timer); resolve(false) })
        })
        if (!started) {
          say('a new worker did not start: rolling restart abandoned, the running workers stay')
          return
        }
        if (previous.isDead()) continue
        retiring.add(previous.id)
        const gone = new Promise<void>((resolve) => { previous.once('exit', () => { resolve() }) })
        previous.process.kill('SIGTERM')
        await gone
      }
      say('rolling restart done')
    } finally {
      rolling = false
    }
  }

  for (let i = 0; i < config.webConcurrency; i++) fork()
  process.on('SIGTERM', () => stop('SIGTERM', 0))
  process.on('SIGINT', () => stop('SIGINT', 0))
  process.on('SIGHUP', () => { rollingRestart().catch((error: unknown) => { say(`rolling restart failed: ${String(error)}`) }) })
}

const config = readConfig()
const cannotStart = (error: unknown) => {
  process.stderr.write(`Could not start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
}
if (config.webConcurrency > 1 && cluster.isPrimary) {
  runPrimary(config).catch(cannotStart)
} else {
  runWorker(config).catch(cannotStart)
}
