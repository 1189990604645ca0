/**
 * npm run bench: builds and starts the production server (node with the flags of package.json "start") on
 * a temporary database, waits until it answers, and measures it over loopback: page views with wrk, logins
 * with keep-alive clients that log in as a browser does. Every load phase is bounded in time and every
 * figure is the median of its runs; a run that other processes on the machine disturbed is run again.
 * The server runs at its default log level (info: a line per request) unless --log-level says otherwise; the
 * page phase compares it with a second server at LOG_LEVEL=warn on the same database.
 * Prints a table and writes bench/results/latest.json. See bench/README.md for what each figure means.
 *
 * Options (after `npm run bench --`):
 *   --pg                 PostgreSQL (a fresh database on --pg-url's server, dropped afterwards)
 *   --pg-url URL         admin URL of that server (default postgres://postgres@127.0.0.1:5432/postgres)
 *   --runs N             runs per figure (default 3, at least 3)
 *   --duration S         seconds per page-load run (default 5)
 *   --login-duration S   seconds per login-throughput run (default 8)
 *   --sessions N         sessions in the table for the large case (default 1000000)
 *   --phases LIST        page,login,storm,busy,scale,people (default: all)
 *   --log-level L        LOG_LEVEL for the server (default: not set, the server's default, info)
 *   --accounts N         accounts in the table for the people phase's large case (default 1000000)
 *   --server-env K=V     extra environment for the server (repeatable), e.g. PASSWORD_HASH_CONCURRENCY=2
 *   --node-flags=FLAGS   extra flags for the server's node, e.g. --node-flags=--trace-gc (its output lands in the kept log)
 *   --profile            run the server under node --cpu-prof; summarise the profile at the end
 *   --metrics            run the server with METRICS_PORT set (Prometheus metrics on), and scrape it at the end
 *   --out FILE           where to write the JSON (default bench/results/latest.json)
 *   --quiet-limit C      a run during which other processes used more than C cores is run again (default 0.1)
 *   --keep               keep the temporary directory (database, logs)
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { hashSync } from '@node-rs/argon2'
import { loadConfig } from '../src/config.js'
import { Browser } from './lib/browser.js'
import { type BenchDb, createPostgresDatabase, newSessionToken, openPostgres, openSqlite } from './lib/database.js'
import { type Account, runLogins, startLoginStorm, type StormResult } from './lib/logins.js'
import { type CpuReading, freePort, memoryOf, processesNamed, sampleMemory, type Started, startCpuMeter as startProcessMeter, startProcess } from './lib/processes.js'
import { startScriptFlags } from './lib/start-command.js'
import { summarizeServerLog } from './lib/server-log.js'
import { type SmtpSink, startSmtpSink } from './lib/smtp-sink.js'
import { median, percentile, round, sleep } from './lib/stats.js'
import { ensureWrk, runWrk, type WrkOptions, type WrkResult, wrkErrorCount } from './lib/wrk.js'
import { formatSummary, summarize } from './profile.js'

const ROOT = join(import.meta.dirname, '..')
const SERVER_ENTRY = join(ROOT, 'dist', 'src', 'server.js')
const DEMO = { email: 'team@pawsrescue.co', password: 'adminpass' }
const STORM_CLIENTS = 16
const PAGE_CONNECTIONS = 8
/** The busy phase: the page at this many connections, from wrk with this many threads. */
const BUSY_CONNECTIONS = 64
const BUSY_THREADS = 2
/** The level the page phase's second server runs at, to compare with. */
const COMPARISON_LOG_LEVEL = 'warn'
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
const KNOWN_SESSIONS = 1_000
const STORM_ACCOUNT_PASSWORD = 'paws-bench Correct Horse 42'
const PHASES = ['page', 'login', 'storm', 'busy', 'scale', 'people'] as const
/** The people phase's small case, and the accounts its search finds in both cases (named person-<n>@bench.example). */
const KNOWN_ACCOUNTS = 1_000
/** Finds person-1, person-10…19 and person-100…199: 111 accounts, more than a page, in both cases. */
const PEOPLE_SEARCH = 'person-1'
type Phase = typeof PHASES[number]

const { values: opts } = parseArgs({
  options: {
    pg: { type: 'boolean', default: false },
    'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    'login-duration': { type: 'string', default: '8' },
    sessions: { type: 'string', default: '1000000' },
    accounts: { type: 'string', default: '1000000' },
    phases: { type: 'string', default: PHASES.join(',') },
    'server-env': { type: 'string', multiple: true, default: [] },
    'log-level': { type: 'string' },
    'node-flags': { type: 'string', default: '' },
    profile: { type: 'boolean', default: false },
    metrics: { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'latest.json') },
    'quiet-limit': { type: 'string', default: '0.1' },
    keep: { type: 'boolean', default: false }
  },
  strict: true
})

const RUNS = Math.max(3, Number(opts.runs))
const DURATION_S = Math.max(1, Number(opts.duration))
const LOGIN_DURATION_S = Math.max(2, Number(opts['login-duration']))
const LARGE_SESSIONS = Math.max(KNOWN_SESSIONS, Number(opts.sessions))
const LARGE_ACCOUNTS = Math.max(KNOWN_ACCOUNTS, Number(opts.accounts))
const QUIET_LIMIT_CORES = Number(opts['quiet-limit'])
/** Runs disturbed by other processes are run again, at most this many times per figure. */
const EXTRA_ATTEMPTS = 3
const phases = new Set(opts.phases.split(',').map((p) => p.trim()).filter(Boolean) as Phase[])
for (const p of phases) if (!PHASES.includes(p)) throw new Error(`unknown phase ${p}; expected some of ${PHASES.join(',')}`)
const serverEnvExtra = Object.fromEntries(opts['server-env'].map((kv) => {
  const eq = kv.indexOf('=')
  if (eq < 1) throw new Error(`--server-env expects KEY=VALUE, got ${kv}`)
  return [kv.slice(0, eq), kv.slice(eq + 1)]
}))
if (opts['log-level'] !== undefined && !LOG_LEVELS.includes(opts['log-level'])) throw new Error(`--log-level expects one of ${LOG_LEVELS.join(', ')}, got ${opts['log-level']}`)
/** The server's log level: --log-level, else a LOG_LEVEL given with --server-env, else the server's default (not set). */
const LOG_LEVEL = {
  level: opts['log-level'] ?? serverEnvExtra.LOG_LEVEL ?? loadConfig({ NODE_ENV: 'test' }).logLevel,
  source: opts['log-level'] !== undefined ? '--log-level' : serverEnvExtra.LOG_LEVEL !== undefined ? '--server-env' : 'default (LOG_LEVEL not set)'
}

const say = (line: string) => { process.stdout.write(`${line}\n`) }

const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`

function machine () {
  const model = (/^model name\s*:\s*(.+)$/m.exec(safeRead('/proc/cpuinfo')) ?? [])[1]?.trim() ?? cpus()[0]?.model ?? 'unknown'
  return {
    cpu: model,
    cores: cpus().length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    os: `${process.platform} ${safeRead('/proc/sys/kernel/osrelease').trim()}`,
    loadAverageAtStart: loadavg().map((x) => round(x, 2))
  }
}

function safeRead (file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

type Measured<T> = T & { cpu: CpuReading }

/**
 * With --pg the database server's processes work for us too: their CPU is counted apart (as "postgres"),
 * not as other processes disturbing the run.
 */
function startCpuMeter (watched: Record<string, number>): () => CpuReading {
  const stop = startProcessMeter(opts.pg ? { ...watched, ...processesNamed('postgres') } : watched)
  return () => {
    const reading = stop()
    const cores: Record<string, number> = {}
    let postgres = 0
    for (const [name, used] of Object.entries(reading.cores)) {
      if (name.startsWith('postgres:')) postgres += used
      else cores[name] = used
    }
    if (opts.pg) cores.postgres = postgres
    return { ...reading, cores }
  }
}

function cpuNote (cpu: CpuReading): string {
  const own = Object.entries(cpu.cores).map(([name, cores]) => `${name} ${cores.toFixed(2)}`).join(', ')
  return `cores: ${own}, load gen. ${cpu.loadGeneratorCores.toFixed(2)}, others ${cpu.othersCores.toFixed(2)}`
}

/** One wrk run, with who used the CPU over it and a check that nothing failed. */
async function pageRun (wrk: string, label: string, options: WrkOptions, watched: Record<string, number>): Promise<Measured<WrkResult>> {
  const meter = startCpuMeter(watched)
  const result = await runWrk(wrk, options)
  const cpu = meter()
  const errors = wrkErrorCount(result)
  say(`  ${label.padEnd(34)} ${result.rps.toFixed(0).padStart(7)} req/s   p50 ${ms(result.latencyMs.p50).padStart(9)}   p99 ${ms(result.latencyMs.p99).padStart(9)}   ${cpuNote(cpu)}` +
    (errors > 0 ? `   ERRORS ${JSON.stringify(result.errors)}` : ''))
  return { ...result, cpu }
}

/** How long, in all, the benchmark may wait for other processes to quieten down before runs. */
let quietWaitBudgetMs = 180_000

/**
 * Waits (within the budget) until other processes leave the machine alone for a second, so that a run
 * does not start in the middle of someone else's burst of work.
 */
async function waitForQuiet (watched: Record<string, number>): Promise<void> {
  const started = performance.now()
  while (quietWaitBudgetMs > 0) {
    const meter = startCpuMeter(watched)
    await sleep(1000)
    const { othersCores } = meter()
    if (othersCores <= QUIET_LIMIT_CORES / 2) break
    quietWaitBudgetMs -= 1000
  }
  const waited = performance.now() - started - 1000
  if (waited > 500) say(`  (waited ${(waited / 1000).toFixed(0)} s for other processes to quieten down)`)
}

/**
 * Repeats a measurement until it has RUNS runs that other processes did not disturb (at most EXTRA_ATTEMPTS
 * more attempts); if quiet runs stay too few, the least disturbed runs make up the number.
 */
async function collect<T> (once: (attempt: number) => Promise<T>, othersCores: (run: T) => number, watched: Record<string, number> = {}, count = RUNS): Promise<{ runs: T[], disturbed: number }> {
  const quiet: T[] = []
  const noisy: T[] = []
  for (let attempt = 1; quiet.length < count && attempt <= count + EXTRA_ATTEMPTS; attempt++) {
    await waitForQuiet(watched)
    const run = await once(attempt)
    const others = othersCores(run)
    if (others <= QUIET_LIMIT_CORES) {
      quiet.push(run)
    } else {
      noisy.push(run)
      say(`  (disturbed: other processes used ${others.toFixed(2)} cores during that run${quiet.length + count + EXTRA_ATTEMPTS - attempt >= count ? '; running it again' : ''})`)
    }
  }
  if (quiet.length >= count) return { runs: quiet, disturbed: noisy.length }
  const fill = [...noisy].sort((a, b) => othersCores(a) - othersCores(b)).slice(0, count - quiet.length)
  say(`  WARNING: only ${quiet.length} undisturbed runs; the figure uses ${fill.length} disturbed ones too`)
  return { runs: [...quiet, ...fill], disturbed: noisy.length }
}

const pick = (runs: readonly WrkResult[]) => ({
  rps: round(median(runs.map((r) => r.rps)), 0),
  p50Ms: round(median(runs.map((r) => r.latencyMs.p50)), 3),
  p99Ms: round(median(runs.map((r) => r.latencyMs.p99)), 3)
})

/**
 * The time of one argon2id hash with the server's parameters, computed synchronously on this thread: the
 * pure work of one hash on one core, with no queueing or hand-off around it. One run is `count` hashes.
 */
function hashRun (count: number): Measured<{ msPerHash: number }> {
  const { argon2 } = loadConfig({ NODE_ENV: 'test' }).passwords
  const options = { memoryCost: argon2.memoryCost, timeCost: argon2.timeCost, parallelism: argon2.parallelism }
  hashSync('warm-up', options)
  const meter = startCpuMeter({})
  const started = performance.now()
  for (let i = 0; i < count; i++) hashSync(`bench password ${i}`, options)
  const msPerHash = (performance.now() - started) / count
  return { msPerHash, cpu: meter() }
}

/** Creates the storm's accounts through the sign-up form, as people would. */
async function signUp (origin: string, count: number): Promise<Account[]> {
  const accounts: Account[] = []
  const stamp = randomBytes(3).toString('hex')
  for (let i = 0; i < count; i++) {
    const account = { email: `storm-${stamp}-${String(i).padStart(2, '0')}@bench.example`, password: STORM_ACCOUNT_PASSWORD }
    const browser = new Browser(origin)
    try {
      const { post } = await browser.submitForm('/signup', {
        fullName: `Storm Tester ${i}`, email: account.email, password: account.password, confirmPassword: account.password
      })
      if (post.status !== 303) throw new Error(`sign-up of ${account.email} answered ${post.status}: ${post.body.slice(0, 300)}`)
    } finally {
      browser.close()
    }
    accounts.push(account)
  }
  return accounts
}

/** Logs in as the demo staff member and returns the session cookie, checked to show the user in the navbar. */
async function staffSession (origin: string): Promise<{ cookieName: string, token: string, page: { status: number, rawHeaders: string[], body: string } }> {
  const browser = new Browser(origin)
  try {
    const login = await browser.login(DEMO.email, DEMO.password, true)
    if (!login.ok) throw new Error(`demo login failed with ${login.status}`)
    await browser.request('GET', '/') // shows and clears the one-time "logged in" message
    browser.forget('paws_flash')
    const page = await browser.request('GET', '/')
    if (page.status !== 200 || !page.body.includes('class="nav-user"')) throw new Error('the home page does not show the logged-in user')
    const cookieName = [...browser.jar.keys()].find((k) => k.endsWith('paws_session'))!
    return { cookieName, token: browser.jar.get(cookieName)!, page }
  } finally {
    browser.close()
  }
}

async function checkSessionsWork (origin: string, cookieName: string, tokens: readonly string[]): Promise<void> {
  for (const token of tokens) {
    const browser = new Browser(origin)
    browser.jar.set(cookieName, token)
    const page = await browser.request('GET', '/')
    browser.close()
    if (page.status !== 200 || !page.body.includes('class="nav-user"')) throw new Error('an inserted session does not log the user in')
  }
}

interface Target { figure: string, value: number, target: string, ok: boolean, unit?: string }

async function main (): Promise<void> {
  const started = new Date()
  const host = machine()
  say(`Paws Rescue Center benchmark, ${started.toISOString()}`)
  say(`machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB; Node ${host.node}; load average ${host.loadAverageAtStart.join(' ')}`)
  const wrk = ensureWrk(say)
  const work = mkdtempSync(join(tmpdir(), 'paws-bench-'))
  const database = opts.pg ? await createPostgresDatabase(opts['pg-url']) : null
  const databaseUrl = database?.url ?? join(work, 'paws.db')
  const profileDir = join(ROOT, 'bench', 'results', 'profiles')
  if (opts.profile) mkdirSync(profileDir, { recursive: true })
  const serverEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    SECRET_KEY: randomBytes(48).toString('base64url'),
    SEED_DEMO_DATA: 'true',
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    SIGNUPS_PER_IP_PER_HOUR: '1000',
    ...serverEnvExtra,
    ...(opts['log-level'] !== undefined ? { LOG_LEVEL: opts['log-level'] } : {})
  }
  const serverFlags = [...startScriptFlags(ROOT), ...opts['node-flags'].split(' ').filter(Boolean)]
  const started_: Started[] = []
  let benchDb: BenchDb | null = null
  const results: Record<string, unknown> = {}
  const targets: Target[] = []
  let profileSummary: string | null = null
  let mailSink: SmtpSink | null = null

  try {
    const port = await freePort()
    mailSink = await startSmtpSink()
    const metricsPort = opts.metrics ? await freePort() : null
    if (metricsPort !== null) serverEnv.METRICS_PORT = String(metricsPort)
    say(`server: node ${[...serverFlags, relative(ROOT, SERVER_ENTRY)].join(' ')} (the flags of package.json "start"${opts['node-flags'] === '' ? '' : ' and --node-flags'})`)
    say(`log level: ${LOG_LEVEL.level} (${LOG_LEVEL.source === '--log-level' ? `--log-level ${LOG_LEVEL.level}` : LOG_LEVEL.source === '--server-env' ? `--server-env LOG_LEVEL=${LOG_LEVEL.level}` : 'the server\'s default: LOG_LEVEL not set'}); the server's standard output goes to a file`)
    say(`database: ${opts.pg ? `PostgreSQL (${database!.name})` : `SQLite (${relative(ROOT, databaseUrl)})`}; starting the server on port ${port}`)
    const sink = mailSink
    /** The production server; `env` is added to serverEnv (the page phase's second server sets LOG_LEVEL). */
    const startServer = async (at: number, env: NodeJS.ProcessEnv, logFile: string, profile: boolean): Promise<Started> => await startProcess({
      command: process.execPath,
      args: [...serverFlags, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), SERVER_ENTRY],
      env: { PUBLIC_URL: `http://127.0.0.1:${at}`, SMTP_URL: sink.url, ...serverEnv, ...env, PORT: String(at) },
      cwd: ROOT,
      port: at,
      logFile,
      readyPath: '/healthz'
    })
    const server = await startServer(port, {}, join(work, 'server.log'), opts.profile)
    started_.push(server)
    const origin = server.url
    benchDb = opts.pg ? await openPostgres(databaseUrl) : openSqlite(databaseUrl)
    const memoryTimeline: Array<{ after: string, rssMiB: number, hwmMiB: number }> = []
    const noteMemory = (after: string) => {
      const m = memoryOf(server.pid)
      if (m !== null) memoryTimeline.push({ after, rssMiB: round(m.rssMiB, 1), hwmMiB: round(m.hwmMiB, 1) })
    }
    results.serverMemory = memoryTimeline
    if (metricsPort !== null) say(`metrics on: http://127.0.0.1:${metricsPort}/metrics`)
    noteMemory('start')

    const staff = await staffSession(origin)
    const authHeaders = { Cookie: `${staff.cookieName}=${staff.token}` }
    const pageOptions = (extra: Partial<WrkOptions> = {}): WrkOptions =>
      ({ url: `${origin}/`, connections: PAGE_CONNECTIONS, durationS: DURATION_S, workDir: work, ...extra })

    if (phases.has('page')) {
      say(`\n1-2. The home page, ${PAGE_CONNECTIONS} connections, ${RUNS} x ${DURATION_S} s; the bare node:http server answering the same bytes; ` +
        `the authenticated page on a second server at LOG_LEVEL=${COMPARISON_LOG_LEVEL} (same flags, same database), to compare with this one's level, ${LOG_LEVEL.level}`)
      const kept = staff.page.rawHeaders.flatMap((v, i, all) => i % 2 === 0 ? [[v, all[i + 1]!] as [string, string]] : [])
        .filter(([name]) => !['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(name.toLowerCase()))
      const responseFile = join(work, 'page-response.json')
      writeFileSync(responseFile, JSON.stringify({ status: staff.page.status, headers: kept, body: staff.page.body }))
      const barePort = await freePort()
      const bare = await startProcess({
        command: process.execPath,
        args: ['--import', 'tsx', join(ROOT, 'bench', 'bare-server.ts'), responseFile, String(barePort)],
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        cwd: ROOT,
        port: barePort,
        logFile: join(work, 'bare.log'),
        readyPath: '/'
      })
      started_.push(bare)
      // The second server: the same command, environment and database file (SQLite's WAL lets two processes
      // share it), its own port, log file and metrics port, at the comparison level.
      const warnPort = await freePort()
      const warnLog = join(work, `server-${COMPARISON_LOG_LEVEL}.log`)
      const warnServer = await startServer(warnPort, {
        LOG_LEVEL: COMPARISON_LOG_LEVEL,
        ...(metricsPort !== null ? { METRICS_PORT: String(await freePort()) } : {})
      }, warnLog, false)
      started_.push(warnServer)
      const warnStaff = await staffSession(warnServer.url)
      const warnHeaders = { Cookie: `${warnStaff.cookieName}=${warnStaff.token}` }
      const all = { server: server.pid, bare: bare.pid, warn: warnServer.pid }
      const authRun = async (attempt: number) => await pageRun(wrk, `run ${attempt}: authenticated GET /`, pageOptions({ headers: authHeaders }), all)
      const warnRun = async (attempt: number) => await pageRun(wrk, `run ${attempt}: authenticated, ${COMPARISON_LOG_LEVEL} server`, pageOptions({ url: `${warnServer.url}/`, headers: warnHeaders }), all)
      await pageRun(wrk, 'warm-up: authenticated', pageOptions({ durationS: 3, headers: authHeaders }), all)
      await pageRun(wrk, `warm-up: authenticated, ${COMPARISON_LOG_LEVEL} server`, pageOptions({ url: `${warnServer.url}/`, durationS: 3, headers: warnHeaders }), all)
      await pageRun(wrk, 'warm-up: anonymous', pageOptions({ durationS: 2 }), all)
      await pageRun(wrk, 'warm-up: bare node:http', pageOptions({ url: `${bare.url}/`, durationS: 2 }), all)
      // The two servers' authenticated runs sit side by side, in alternating order from run to run, so that
      // the machine's drift weighs on both alike.
      const { runs: quadruples, disturbed } = await collect(async (attempt) => {
        let auth: Measured<WrkResult>
        let warn: Measured<WrkResult>
        if (attempt % 2 === 1) {
          auth = await authRun(attempt)
          warn = await warnRun(attempt)
        } else {
          warn = await warnRun(attempt)
          auth = await authRun(attempt)
        }
        return {
          auth,
          warn,
          anon: await pageRun(wrk, `run ${attempt}: anonymous GET /`, pageOptions(), all),
          bare: await pageRun(wrk, `run ${attempt}: bare node:http, same bytes`, pageOptions({ url: `${bare.url}/` }), all)
        }
      }, (t) => Math.max(t.auth.cpu.othersCores, t.warn.cpu.othersCores, t.anon.cpu.othersCores, t.bare.cpu.othersCores), all)
      const auth = quadruples.map((t) => t.auth)
      const warnRuns = quadruples.map((t) => t.warn)
      const anon = quadruples.map((t) => t.anon)
      const bareRuns = quadruples.map((t) => t.bare)
      await bare.stop()
      started_.splice(started_.indexOf(bare), 1)
      const warnCode = await warnServer.stop()
      started_.splice(started_.indexOf(warnServer), 1)
      const warnLogSummary = await summarizeServerLog(warnLog)
      if (warnCode !== 0) say(`  WARNING: the ${COMPARISON_LOG_LEVEL} server exited with ${String(warnCode)}`)
      if (warnLogSummary.problems.length > 0) say(`  the ${COMPARISON_LOG_LEVEL} server's warnings and errors:\n${warnLogSummary.problems.join('\n')}`)
      const ratio = pick(auth).rps / pick(bareRuns).rps
      // The two servers are measured side by side in each run, so each run's ratio is taken at one moment
      // of this machine's drifting speed; the figure is the median of those ratios (as for figures 3 and 5).
      const levelRatios = quadruples.map((t) => t.auth.rps / t.warn.rps)
      const levelRatio = median(levelRatios)
      say(`  ${''.padEnd(34)} authenticated, ${LOG_LEVEL.level} ÷ ${COMPARISON_LOG_LEVEL}: ${levelRatio.toFixed(2)} (run by run ${levelRatios.map((x) => x.toFixed(2)).join(', ')})`)
      results.page = {
        responseBytes: Buffer.byteLength(staff.page.body),
        logLevel: LOG_LEVEL.level,
        authenticated: pick(auth),
        anonymous: pick(anon),
        bare: pick(bareRuns),
        ratioToBare: round(ratio, 3),
        ratiosToBare: quadruples.map((t) => round(t.auth.rps / t.bare.rps, 3)),
        logLevelComparison: {
          level: LOG_LEVEL.level,
          comparedWith: COMPARISON_LOG_LEVEL,
          authenticated: pick(auth),
          authenticatedWarn: pick(warnRuns),
          ratio: round(levelRatio, 3),
          ratios: levelRatios.map((x) => round(x, 3)),
          comparisonServerCores: round(median(warnRuns.map((r) => r.cpu.cores.warn ?? 0)), 2),
          comparisonServerLog: { lines: warnLogSummary.lines, MiB: round(warnLogSummary.bytes / 2 ** 20, 2) }
        },
        serverCoresAuthenticated: round(median(auth.map((r) => r.cpu.cores.server ?? 0)), 2),
        disturbedRunsDiscarded: disturbed,
        runs: { authenticated: auth, authenticatedWarn: warnRuns, anonymous: anon, bare: bareRuns }
      }
      noteMemory('page phase')
      targets.push({ figure: `authenticated page / bare node:http (log level ${LOG_LEVEL.level})`, value: round(ratio, 3), target: '>= 0.50', ok: ratio >= 0.5 })
      targets.push({
        figure: `authenticated page, log level ${LOG_LEVEL.level} / ${COMPARISON_LOG_LEVEL}${LOG_LEVEL.level === COMPARISON_LOG_LEVEL ? ' (the same level: no comparison)' : ''}`,
        value: round(levelRatio, 3),
        target: '>= 0.90',
        ok: levelRatio >= 0.9
      })
    }

    let accounts: Account[] = []
    if (phases.has('login') || phases.has('storm') || phases.has('busy')) {
      say(`\nSigning up ${STORM_CLIENTS} accounts for the login clients (POST /signup)`)
      accounts = await signUp(origin, STORM_CLIENTS)
    }

    if (phases.has('login')) {
      say(`\n3. Logins: one client logging in (${RUNS} x ${DURATION_S} s); ${STORM_CLIENTS} clients (${RUNS} x ${LOGIN_DURATION_S} s), each run between two timings of one argon2id hash alone`)
      const loginRun = async (label: string, clients: number, warmupS: number, durationS: number): Promise<Measured<StormResult>> => {
        const meter = startCpuMeter({ server: server.pid })
        const result = await runLogins(origin, accounts, clients, warmupS, durationS)
        const cpu = meter()
        say(`  ${label.padEnd(16)} ${result.loginsPerS.toFixed(1).padStart(6)} logins/s   POST p50 ${ms(percentile(result.postMs, 50)).padStart(9)}   p99 ${ms(percentile(result.postMs, 99)).padStart(9)}   statuses ${JSON.stringify(result.statuses)}   ${cpuNote(cpu)}`)
        return { ...result, cpu }
      }
      const { runs: single } = await collect(async (attempt) => await loginRun(`run ${attempt}: 1 client`, 1, 0.5, DURATION_S), (r) => r.cpu.othersCores, { server: server.pid })
      // This machine's speed drifts by a fifth within seconds, so one hash is timed right before and right
      // after each run, and each run's logins are weighed by the mean of its own two timings.
      const { runs: many, disturbed } = await collect(async (attempt) => {
        const before = hashRun(20)
        const run = await loginRun(`run ${attempt}: ${STORM_CLIENTS} clients`, STORM_CLIENTS, 1, LOGIN_DURATION_S)
        const after = hashRun(20)
        const hashMs = (before.msPerHash + after.msPerHash) / 2
        const hashShare = run.loginsPerS * hashMs / 1000
        say(`  ${''.padEnd(16)} one argon2id hash alone ${ms(before.msPerHash)} before, ${ms(after.msPerHash)} after (20 in a row on one thread); logins/s x hash time ${hashShare.toFixed(2)}`)
        return { ...run, hashMsBefore: before.msPerHash, hashMsAfter: after.msPerHash, hashShare, othersCores: Math.max(run.cpu.othersCores, before.cpu.othersCores, after.cpu.othersCores) }
      }, (r) => r.othersCores, { server: server.pid })
      const hashRunsMs = many.flatMap((m) => [m.hashMsBefore, m.hashMsAfter])
      const hashTime = { msPerHash: median(hashRunsMs), runsMs: hashRunsMs }
      const loginsPerS = median(many.map((m) => m.loginsPerS))
      const hashShare = median(many.map((m) => m.hashShare))
      results.login = {
        hashMs: round(hashTime.msPerHash, 2),
        hashRunsMs: hashTime.runsMs.map((x) => round(x, 2)),
        singleClient: {
          p50Ms: round(median(single.map((s) => percentile(s.postMs, 50))), 2),
          p99Ms: round(median(single.map((s) => percentile(s.postMs, 99))), 2),
          loginsPerS: round(median(single.map((s) => s.loginsPerS)), 1)
        },
        concurrent: {
          clients: STORM_CLIENTS,
          loginsPerS: round(loginsPerS, 1),
          p50Ms: round(median(many.map((s) => percentile(s.postMs, 50))), 2),
          p99Ms: round(median(many.map((s) => percentile(s.postMs, 99))), 2)
        },
        hashCoresUsed: round(hashShare, 3),
        serverCoresConcurrent: round(median(many.map((r) => r.cpu.cores.server ?? 0)), 2),
        disturbedRunsDiscarded: disturbed,
        runs: {
          single: single.map(({ postMs, ...rest }) => ({ ...rest, p50Ms: percentile(postMs, 50), p99Ms: percentile(postMs, 99) })),
          concurrent: many.map(({ postMs, ...rest }) => ({ ...rest, p50Ms: percentile(postMs, 50), p99Ms: percentile(postMs, 99) }))
        }
      }
      noteMemory('login phase')
      targets.push({ figure: 'logins/s x time of one hash', value: round(hashShare, 3), target: '>= 0.90', ok: hashShare >= 0.9 })
    }

    /**
     * The page alone, then during the login storm (started a second before), run by run; the server's
     * resident memory is sampled during both (figures 4, 6 and 8).
     */
    const aloneThenDuringStorm = async (options: WrkOptions, label: string) => {
      const watched = { server: server.pid }
      await pageRun(wrk, `warm-up: authenticated${label}`, { ...options, durationS: 2 }, watched)
      const { runs: pairs, disturbed } = await collect(async (attempt) => {
        const stopSamplingAlone = sampleMemory(server.pid)
        const alone = await pageRun(wrk, `run ${attempt}: alone${label}`, options, watched)
        const memoryAlone = stopSamplingAlone()
        const storm = startLoginStorm(origin, accounts, STORM_CLIENTS)
        await sleep(1000)
        storm.markWindowStart()
        const stopSampling = sampleMemory(server.pid)
        const during = await pageRun(wrk, `run ${attempt}: during the storm${label}`, options, watched)
        const memory = stopSampling()
        const logins = await storm.stop()
        say(`  ${''.padEnd(34)} storm: ${logins.loginsPerS.toFixed(1)} logins/s, statuses ${JSON.stringify(logins.statuses)}; server peak RSS ${memory.peakRssMiB.toFixed(1)} MiB (alone ${memoryAlone.peakRssMiB.toFixed(1)} MiB; VmHWM ${memory.hwmMiB.toFixed(1)} MiB)`)
        return { alone, during, logins, memory, memoryAlone }
      }, (p) => Math.max(p.alone.cpu.othersCores, p.during.cpu.othersCores), watched)
      const memory = pairs.map((p) => p.memory)
      return {
        pairs,
        disturbed,
        alone: pairs.map((p) => p.alone),
        during: pairs.map((p) => p.during),
        storms: pairs.map((p) => p.logins),
        memory,
        peakRss: median(memory.map((m) => m.peakRssMiB))
      }
    }

    if (phases.has('storm')) {
      say(`\n4 and 6. The authenticated page at ${PAGE_CONNECTIONS} connections, alone and during ${STORM_CLIENTS} clients logging in continuously (${RUNS} x ${DURATION_S} s each)`)
      const { disturbed, alone, during, storms, memory, peakRss } = await aloneThenDuringStorm(pageOptions({ headers: authHeaders }), '')
      const a = pick(alone)
      const d = pick(during)
      const p99Ratio = d.p99Ms / a.p99Ms
      const rpsRatio = d.rps / a.rps
      results.storm = {
        alone: a,
        during: d,
        p99Ratio: round(p99Ratio, 3),
        throughputRatio: round(rpsRatio, 3),
        loginsPerSDuringStorm: round(median(storms.map((s) => s.loginsPerS)), 1),
        loginStatuses: storms.map((s) => s.statuses),
        disturbedRunsDiscarded: disturbed,
        memory: { peakRssMiB: round(peakRss, 1), maxPeakRssMiB: round(Math.max(...memory.map((m) => m.peakRssMiB)), 1), vmHwmMiB: round(Math.max(...memory.map((m) => m.hwmMiB)), 1), runs: memory },
        runs: { alone, during }
      }
      noteMemory('storm phase')
      targets.push({ figure: 'page p99 during storm / alone', value: round(p99Ratio, 3), target: '<= 3', ok: p99Ratio <= 3 })
      targets.push({ figure: 'page throughput during storm / alone', value: round(rpsRatio, 3), target: '>= 0.50', ok: rpsRatio >= 0.5 })
      targets.push({ figure: `peak RSS during the storm (${PAGE_CONNECTIONS} connections)`, value: round(peakRss, 1), unit: 'MiB', target: '<= 150 MiB', ok: peakRss <= 150 })
    }

    if (phases.has('busy')) {
      say(`\n8. The authenticated page at ${BUSY_CONNECTIONS} connections (wrk, ${BUSY_THREADS} threads), alone and during ${STORM_CLIENTS} clients logging in continuously; the server's peak RSS (${RUNS} x ${DURATION_S} s each)`)
      const busy = pageOptions({ headers: authHeaders, connections: BUSY_CONNECTIONS, threads: BUSY_THREADS })
      const { pairs, disturbed, alone, during, storms, memory, peakRss } = await aloneThenDuringStorm(busy, `, ${BUSY_CONNECTIONS} conn.`)
      const a = pick(alone)
      const d = pick(during)
      const stormResults = results.storm as { memory: { peakRssMiB: number } } | undefined
      results.busy = {
        connections: BUSY_CONNECTIONS,
        wrkThreads: BUSY_THREADS,
        alone: a,
        during: d,
        p99Ratio: round(d.p99Ms / a.p99Ms, 3),
        throughputRatio: round(d.rps / a.rps, 3),
        loginsPerSDuringStorm: round(median(storms.map((s) => s.loginsPerS)), 1),
        loginStatuses: storms.map((s) => s.statuses),
        serverCoresDuring: round(median(during.map((r) => r.cpu.cores.server ?? 0)), 2),
        disturbedRunsDiscarded: disturbed,
        memory: {
          peakRssMiB: round(peakRss, 1),
          maxPeakRssMiB: round(Math.max(...memory.map((m) => m.peakRssMiB)), 1),
          peakRssAloneMiB: round(median(pairs.map((p) => p.memoryAlone.peakRssMiB)), 1),
          vmHwmMiB: round(Math.max(...memory.map((m) => m.hwmMiB)), 1),
          stormPhasePeakRssMiB: stormResults?.memory.peakRssMiB ?? null,
          runs: memory,
          runsAlone: pairs.map((p) => p.memoryAlone)
        },
        runs: { alone, during }
      }
      noteMemory('busy phase')
      targets.push({ figure: `peak RSS during the storm (${BUSY_CONNECTIONS} connections)`, value: round(peakRss, 1), unit: 'MiB', target: '<= 150 MiB', ok: peakRss <= 150 })
    }

    if (phases.has('scale')) {
      say(`\n5. The authenticated page with ${KNOWN_SESSIONS.toLocaleString('en')} and with ${LARGE_SESSIONS.toLocaleString('en')} sessions in the table; each request uses one of ${KNOWN_SESSIONS.toLocaleString('en')} sessions at random`)
      const userId = await benchDb.userId(DEMO.email)
      const known = Array.from({ length: KNOWN_SESSIONS }, () => newSessionToken())
      await benchDb.deleteAllSessions()
      await benchDb.insertSessions(userId, known.map((k) => k.id), Date.now())
      const tokensFile = join(work, 'tokens.txt')
      writeFileSync(tokensFile, known.map((k) => k.token).join('\n') + '\n')
      await checkSessionsWork(origin, staff.cookieName, known.slice(0, 20).map((k) => k.token))
      const rotate = pageOptions({ rotateCookie: { name: staff.cookieName, tokensFile } })
      const measure = async (label: string): Promise<WrkResult> => {
        await benchDb!.touchSessions(known.map((k) => k.id), Date.now())
        await pageRun(wrk, `warm-up: ${label}`, { ...rotate, durationS: 2 }, { server: server.pid })
        const { runs } = await collect(async () => await pageRun(wrk, label, rotate, { server: server.pid }), (r) => r.cpu.othersCores, { server: server.pid }, 1)
        return runs[0]!
      }
      // This machine's speed drifts by a quarter within a minute, more than the effect measured here, so the
      // two sizes alternate: each run with the large table sits between two runs with the small one, and
      // its ratio is to their mean. The figure is the median of those ratios.
      const smallLabel = `${KNOWN_SESSIONS.toLocaleString('en')} sessions`
      const small = [await measure(`run 1: ${smallLabel}`)]
      const large: WrkResult[] = []
      const ratios: number[] = []
      let count = 0
      let sizeMiB = 0
      let fillerInsertS = 0
      for (let run = 1; run <= RUNS; run++) {
        const fillerStarted = performance.now()
        await benchDb.insertFillerSessions(userId, LARGE_SESSIONS - KNOWN_SESSIONS, Date.now())
        fillerInsertS = (performance.now() - fillerStarted) / 1000
        count = await benchDb.countSessions()
        sizeMiB = (await benchDb.sizeBytes()) / 2 ** 20
        say(`  inserted ${(LARGE_SESSIONS - KNOWN_SESSIONS).toLocaleString('en')} filler sessions (${fillerInsertS.toFixed(1)} s): ${count.toLocaleString('en')} sessions, database ${sizeMiB.toFixed(0)} MiB`)
        await checkSessionsWork(origin, staff.cookieName, known.slice(0, 20).map((k) => k.token))
        large.push(await measure(`run ${run}: ${count.toLocaleString('en')} sessions`))
        const deleteStarted = performance.now()
        await benchDb.deleteFillerSessions()
        say(`  deleted the filler sessions (${((performance.now() - deleteStarted) / 1000).toFixed(1)} s)`)
        small.push(await measure(`run ${run + 1}: ${smallLabel}`))
        const ratio = large[run - 1]!.rps / ((small[run - 1]!.rps + small[run]!.rps) / 2)
        ratios.push(ratio)
        say(`  ${''.padEnd(34)} ${count.toLocaleString('en')} ÷ ${smallLabel} (the runs on either side): ${ratio.toFixed(2)}`)
      }
      const s = pick(small)
      const l = pick(large)
      const ratio = median(ratios)
      results.scale = {
        small: { sessions: KNOWN_SESSIONS, ...s },
        large: { sessions: count, ...l },
        ratio: round(ratio, 3),
        ratios: ratios.map((r) => round(r, 3)),
        databaseMiB: round(sizeMiB, 0),
        fillerInsertS: round(fillerInsertS, 1),
        runs: { small, large }
      }
      noteMemory('scale phase')
      targets.push({ figure: `${count.toLocaleString('en')} sessions / ${KNOWN_SESSIONS.toLocaleString('en')} sessions`, value: round(ratio, 3), target: '>= 0.90', ok: ratio >= 0.9 })
    }

    if (phases.has('people')) {
      say(`\n7. The people page and a search, as staff, with ${KNOWN_ACCOUNTS.toLocaleString('en')} and with ${LARGE_ACCOUNTS.toLocaleString('en')} accounts`)
      const now = Date.now()
      await benchDb.insertAccounts('person', KNOWN_ACCOUNTS, now)
      // A session of its own: phase 5 replaces every session in the table.
      const team = await staffSession(origin)
      const teamHeaders = { Cookie: `${team.cookieName}=${team.token}` }
      const list = pageOptions({ url: `${origin}/staff/people`, headers: teamHeaders })
      const search = pageOptions({ url: `${origin}/staff/people?q=${PEOPLE_SEARCH}`, headers: teamHeaders })
      const check = await fetch(search.url, { headers: teamHeaders })
      const found = (await check.text()).match(/<td data-label="Name">/g)?.length ?? 0
      if (check.status !== 200 || found !== 50) throw new Error(`the people search answered ${check.status} with ${found} rows, not a page of 50`)
      const measure = async (label: string, options: WrkOptions): Promise<WrkResult> => {
        await pageRun(wrk, `warm-up: ${label}`, { ...options, durationS: 2 }, { server: server.pid })
        const { runs } = await collect(async () => await pageRun(wrk, label, options, { server: server.pid }), (r) => r.cpu.othersCores, { server: server.pid }, 1)
        return runs[0]!
      }
      const both = async (size: string) => ({ list: await measure(`list: ${size}`, list), search: await measure(`search: ${size}`, search) })
      // As in phase 5, the sizes alternate (the machine's speed drifts): each large run's ratio is to the
      // mean of the small runs on either side; the figure is the median of those ratios.
      const smallLabel = `${KNOWN_ACCOUNTS.toLocaleString('en')} accounts`
      const small = [await both(`run 1: ${smallLabel}`)]
      const large: Array<{ list: WrkResult, search: WrkResult }> = []
      const ratios = { list: [] as number[], search: [] as number[] }
      let count = 0
      let insertS = 0
      for (let run = 1; run <= RUNS; run++) {
        const insertStarted = performance.now()
        await benchDb.insertAccounts('filler', LARGE_ACCOUNTS - KNOWN_ACCOUNTS, now)
        insertS = (performance.now() - insertStarted) / 1000
        count = await benchDb.countUsers()
        say(`  inserted ${(LARGE_ACCOUNTS - KNOWN_ACCOUNTS).toLocaleString('en')} filler accounts (${insertS.toFixed(1)} s): ${count.toLocaleString('en')} accounts`)
        large.push(await both(`run ${run}: ${count.toLocaleString('en')} accounts`))
        const deleteStarted = performance.now()
        await benchDb.deleteAccounts('filler')
        say(`  deleted the filler accounts (${((performance.now() - deleteStarted) / 1000).toFixed(1)} s)`)
        small.push(await both(`run ${run + 1}: ${smallLabel}`))
        for (const kind of ['list', 'search'] as const) {
          const ratio = large[run - 1]![kind].rps / ((small[run - 1]![kind].rps + small[run]![kind].rps) / 2)
          ratios[kind].push(ratio)
          say(`  ${kind.padEnd(34)} ${count.toLocaleString('en')} ÷ ${smallLabel} (the runs on either side): ${ratio.toFixed(2)}`)
        }
      }
      await benchDb.deleteAccounts('person')
      const ratio = { list: median(ratios.list), search: median(ratios.search) }
      results.people = {
        search: PEOPLE_SEARCH,
        small: { accounts: KNOWN_ACCOUNTS, list: pick(small.map((r) => r.list)), search: pick(small.map((r) => r.search)) },
        large: { accounts: count, list: pick(large.map((r) => r.list)), search: pick(large.map((r) => r.search)) },
        ratio: { list: round(ratio.list, 3), search: round(ratio.search, 3) },
        ratios: { list: ratios.list.map((r) => round(r, 3)), search: ratios.search.map((r) => round(r, 3)) },
        accountsInsertS: round(insertS, 1),
        runs: { small, large }
      }
      noteMemory('people phase')
      targets.push({ figure: `people page, ${count.toLocaleString('en')} / ${smallLabel}`, value: round(ratio.list, 3), target: '>= 0.80', ok: ratio.list >= 0.8 })
      targets.push({ figure: `people search, ${count.toLocaleString('en')} / ${smallLabel}`, value: round(ratio.search, 3), target: '>= 0.80', ok: ratio.search >= 0.8 })
    }

    if (metricsPort !== null) {
      const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
      const samples = (await scrape.text()).split('\n').filter((line) => line !== '' && !line.startsWith('#')).length
      say(`metrics scraped after the phases: HTTP ${scrape.status}, ${samples} samples`)
    }
    await benchDb.close()
    benchDb = null
    const code = await server.stop()
    started_.splice(started_.indexOf(server), 1)
    if (code !== 0) say(`WARNING: the server exited with ${String(code)}; see ${join(work, 'server.log')}`)
    const serverLog = await summarizeServerLog(join(work, 'server.log'))
    results.serverLog = { level: LOG_LEVEL.level, MiB: round(serverLog.bytes / 2 ** 20, 1), lines: serverLog.lines, infoLines: serverLog.infoLines, warningsAndErrors: serverLog.problems }
    say(`\nserver log (log level ${LOG_LEVEL.level}): ${serverLog.lines.toLocaleString('en')} lines, ${(serverLog.bytes / 2 ** 20).toFixed(1)} MiB`)
    if (serverLog.problems.length > 0) say(`its last warnings and errors:\n${serverLog.problems.join('\n')}`)
    if (opts.profile) {
      const newest = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(profileDir, f)).sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs)[0]
      if (newest !== undefined) {
        profileSummary = formatSummary(summarize(newest))
        say(`\nCPU profile of the server: ${relative(ROOT, newest)} (open in Chrome DevTools or speedscope; folded stacks beside it)\n${profileSummary}`)
      }
    }
  } finally {
    if (benchDb !== null) await benchDb.close().catch(() => {})
    for (const p of started_.reverse()) await p.stop().catch(() => null)
    await mailSink?.close()
    if (database !== null) await database.drop().catch((error: unknown) => { say(`could not drop ${database.name}: ${String(error)}`) })
    if (!opts.keep) rmSync(work, { recursive: true, force: true })
    else say(`kept ${work}`)
  }

  const finished = new Date()
  const report = {
    date: started.toISOString(),
    durationS: round((finished.getTime() - started.getTime()) / 1000, 0),
    machine: { ...host, loadAverageAtEnd: loadavg().map((x) => round(x, 2)) },
    database: opts.pg ? 'postgres' : 'sqlite',
    settings: {
      runs: RUNS,
      durationS: DURATION_S,
      loginDurationS: LOGIN_DURATION_S,
      logLevel: LOG_LEVEL.level,
      logLevelFrom: LOG_LEVEL.source,
      pageConnections: PAGE_CONNECTIONS,
      busyConnections: BUSY_CONNECTIONS,
      loginClients: STORM_CLIENTS,
      loadGenerator: `wrk (1 thread; ${BUSY_THREADS} threads at ${BUSY_CONNECTIONS} connections)`,
      serverEnv: serverEnvExtra,
      metrics: opts.metrics,
      serverCommand: `node ${[...startScriptFlags(ROOT), ...opts['node-flags'].split(' ').filter(Boolean)].join(' ')} dist/src/server.js`,
      profile: opts.profile
    },
    targets,
    ...results
  }
  mkdirSync(dirname(opts.out), { recursive: true })
  writeFileSync(opts.out, JSON.stringify(report, null, 2) + '\n')
  say(`\n${table(report, results)}`)
  say(`\nwritten: ${relative(ROOT, opts.out)} (${report.durationS} s)`)
}

function table (report: { machine: ReturnType<typeof machine>, database: string, date: string }, results: Record<string, unknown>): string {
  const r = results as {
    page?: {
      authenticated: ReturnType<typeof pick>
      anonymous: ReturnType<typeof pick>
      bare: ReturnType<typeof pick>
      ratioToBare: number
      logLevelComparison: { level: string, comparedWith: string, authenticatedWarn: ReturnType<typeof pick>, ratio: number }
    }
    login?: { hashMs: number, singleClient: { p50Ms: number, p99Ms: number }, concurrent: { loginsPerS: number, p50Ms: number, p99Ms: number }, hashCoresUsed: number }
    storm?: { alone: ReturnType<typeof pick>, during: ReturnType<typeof pick>, p99Ratio: number, throughputRatio: number, memory: { peakRssMiB: number } }
    busy?: {
      alone: ReturnType<typeof pick>
      during: ReturnType<typeof pick>
      p99Ratio: number
      throughputRatio: number
      memory: { peakRssMiB: number, maxPeakRssMiB: number, peakRssAloneMiB: number }
    }
    scale?: { small: ReturnType<typeof pick> & { sessions: number }, large: ReturnType<typeof pick> & { sessions: number }, ratio: number }
    people?: {
      small: { accounts: number, list: ReturnType<typeof pick>, search: ReturnType<typeof pick> }
      large: { accounts: number, list: ReturnType<typeof pick>, search: ReturnType<typeof pick> }
      ratio: { list: number, search: number }
    }
  }
  const rows: Array<[string, string, string]> = []
  const check = (ok: boolean) => ok ? 'met' : 'MISSED'
  if (r.page !== undefined) {
    const { authenticated: a, anonymous: n, bare: b } = r.page
    const { level, comparedWith, authenticatedWarn: w, ratio } = r.page.logLevelComparison
    rows.push([`1. authenticated GET / (${PAGE_CONNECTIONS} conn., log level ${level})`, `${a.rps} req/s, p50 ${ms(a.p50Ms)}, p99 ${ms(a.p99Ms)}`, ''])
    rows.push(['   anonymous GET /', `${n.rps} req/s, p50 ${ms(n.p50Ms)}, p99 ${ms(n.p99Ms)}`, ''])
    rows.push([`   authenticated GET /, LOG_LEVEL=${comparedWith} server`, `${w.rps} req/s, p50 ${ms(w.p50Ms)}, p99 ${ms(w.p99Ms)}`, ''])
    rows.push([`   authenticated, ${level} / ${comparedWith}${level === comparedWith ? ' (same level)' : ''}`, ratio.toFixed(2), `>= 0.90 ${check(ratio >= 0.9)}`])
    rows.push(['2. bare node:http, same bytes', `${b.rps} req/s, p50 ${ms(b.p50Ms)}, p99 ${ms(b.p99Ms)}`, ''])
    rows.push([`   authenticated (${level}) / bare`, r.page.ratioToBare.toFixed(2), `>= 0.50 ${check(r.page.ratioToBare >= 0.5)}`])
  }
  if (r.login !== undefined) {
    const l = r.login
    rows.push(['3. one argon2id hash alone', ms(l.hashMs), ''])
    rows.push(['   login, 1 client (POST)', `p50 ${ms(l.singleClient.p50Ms)}, p99 ${ms(l.singleClient.p99Ms)}`, ''])
    rows.push([`   logins, ${STORM_CLIENTS} clients`, `${l.concurrent.loginsPerS} logins/s, p50 ${ms(l.concurrent.p50Ms)}, p99 ${ms(l.concurrent.p99Ms)}`, ''])
    rows.push(['   logins/s x hash time', l.hashCoresUsed.toFixed(2), `>= 0.90 ${check(l.hashCoresUsed >= 0.9)}`])
  }
  if (r.storm !== undefined) {
    const s = r.storm
    rows.push(['4. page alone (8 conn.)', `${s.alone.rps} req/s, p99 ${ms(s.alone.p99Ms)}`, ''])
    rows.push([`   page during ${STORM_CLIENTS}-client login storm`, `${s.during.rps} req/s, p99 ${ms(s.during.p99Ms)}`, ''])
    rows.push(['   p99 during / alone', s.p99Ratio.toFixed(2), `<= 3 ${check(s.p99Ratio <= 3)}`])
    rows.push(['   throughput during / alone', s.throughputRatio.toFixed(2), `>= 0.50 ${check(s.throughputRatio >= 0.5)}`])
  }
  if (r.scale !== undefined) {
    const { small, large } = r.scale
    rows.push([`5. page, ${small.sessions.toLocaleString('en')} sessions`, `${small.rps} req/s, p99 ${ms(small.p99Ms)}`, ''])
    rows.push([`   page, ${large.sessions.toLocaleString('en')} sessions`, `${large.rps} req/s, p99 ${ms(large.p99Ms)}`, ''])
    rows.push(['   ratio', r.scale.ratio.toFixed(2), `>= 0.90 ${check(r.scale.ratio >= 0.9)}`])
  }
  if (r.storm !== undefined) rows.push([`6. peak RSS during the storm (${PAGE_CONNECTIONS} conn.)`, `${r.storm.memory.peakRssMiB} MiB`, `<= 150 MiB ${check(r.storm.memory.peakRssMiB <= 150)}`])
  if (r.people !== undefined) {
    const { small, large, ratio } = r.people
    for (const kind of ['list', 'search'] as const) {
      const name = kind === 'list' ? 'people page' : `people search "${PEOPLE_SEARCH}"`
      rows.push([`${kind === 'list' ? '7.' : '  '} ${name}, ${small.accounts.toLocaleString('en')}`, `${small[kind].rps} req/s, p99 ${ms(small[kind].p99Ms)}`, ''])
      rows.push([`   ${name}, ${large.accounts.toLocaleString('en')}`, `${large[kind].rps} req/s, p99 ${ms(large[kind].p99Ms)}`, ''])
      rows.push(['   ratio', ratio[kind].toFixed(2), `>= 0.80 ${check(ratio[kind] >= 0.8)}`])
    }
  }
  if (r.busy !== undefined) {
    const b = r.busy
    rows.push([`8. page alone (${BUSY_CONNECTIONS} conn., wrk ${BUSY_THREADS} threads)`, `${b.alone.rps} req/s, p99 ${ms(b.alone.p99Ms)}`, ''])
    rows.push([`   page during ${STORM_CLIENTS}-client login storm`, `${b.during.rps} req/s, p99 ${ms(b.during.p99Ms)}`, ''])
    rows.push(['   p99 during / alone; throughput', `${b.p99Ratio.toFixed(2)}; ${b.throughputRatio.toFixed(2)}`, ''])
    rows.push([`   peak RSS during the storm (${BUSY_CONNECTIONS} conn.)`, `${b.memory.peakRssMiB} MiB (max ${b.memory.maxPeakRssMiB}, alone ${b.memory.peakRssAloneMiB})`, `<= 150 MiB ${check(b.memory.peakRssMiB <= 150)}`])
    if (r.storm !== undefined) rows.push([`   peak RSS during the storm (${PAGE_CONNECTIONS} conn., 6.)`, `${r.storm.memory.peakRssMiB} MiB`, ''])
  }
  const w0 = Math.max(...rows.map((x) => x[0].length), 6)
  const w1 = Math.max(...rows.map((x) => x[1].length), 6)
  const w2 = Math.max(...rows.map((x) => x[2].length), 6)
  const line = (a: string, b: string, c: string) => `| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c.padEnd(w2)} |`
  const m = report.machine
  return [
    `${m.cpu}, ${m.cores} cores, Node ${m.node}, ${report.database}, ${report.date.slice(0, 10)}, log level ${LOG_LEVEL.level}`,
    line('figure', 'median of runs', 'target'),
    `|${'-'.repeat(w0 + 2)}|${'-'.repeat(w1 + 2)}|${'-'.repeat(w2 + 2)}|`,
    ...rows.map(([a, b, c]) => line(a, b, c))
  ].join('\n')
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
})
