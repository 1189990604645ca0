/**
 * Password hashing with argon2id on dedicated worker threads, behind admission control: `concurrency`
 * threads each hash one password at a time, taking the next straight from their own queue (no round
 * trip through the busy event loop between two hashes, so a hashing core never idles while work waits),
 * and at most `queue` more may wait; past that the caller is told to come back later (HasherBusyError).
 * A login storm therefore keeps `concurrency` cores hashing, at a lower priority, and cannot take the
 * others from page views; while page views keep the event loop busy, each thread hashes at most half of
 * the time (decision 0017).
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { parseOptions } from '@node-rs/argon2'
import type { Argon2Params } from '../config.js'

/** Argon2id's number in @node-rs/argon2's Algorithm enum (a const enum, not importable as a value). */
const ARGON2ID = 2
/**
 * On Linux, hashing threads run at the lowest priority: they take whatever CPU is spare, and whenever a
 * core is contended the event loop serving pages (and the database, and the GC) comes first. Nice 19
 * alone still lets a hash finish its time slice (a millisecond or more) before a woken event loop gets the
 * core back; under SCHED_IDLE the event loop takes it at once. The policy is set with util-linux's `chrt`
 * on the thread's own id (Node has no call for it); where that fails, nice 19 remains.
 */
const HASH_THREAD_NICE = 19
/**
 * Page views first, where the kernel's priorities cannot see (decision 0017). On a machine whose cores share
 * one physical core's execution units (hyperthreads: the usual 2-vCPU cloud machine), a hash running at idle
 * priority on the other core still slows the event loop by a third. So while the event loop is busy (more
 * than this share of the last check's interval), each hashing thread rests after a hash for as long as the
 * hash took: hashing keeps at most half of a core, and logins wait in the admission queue instead. The rest
 * ends early when the loop is no longer busy.
 */
const BUSY_LOOP_UTILIZATION = 0.75
const LOOP_CHECK_INTERVAL_MS = 100
const MS_PER_S = 1_000

export class HasherBusyError extends Error {
  readonly retryAfterSeconds = 2
  constructor () {
    super('Too many password checks are in progress')
    this.name = 'HasherBusyError'
  }
}

export interface PasswordHasher {
  hash: (password: string) => Promise<string>
  /** Verifies against the stored hash; with `null` it spends the same time on a dummy hash and fails. */
  verify: (storedHash: string | null, password: string) => Promise<boolean>
  needsRehash: (storedHash: string) => boolean
  /** How many hashes a thread rested after because the event loop was busy (decision 0017). */
  restsAfterHashes?: () => number
  /** Hashes admitted and waiting for a thread (not yet running). */
  waiting?: () => number
  /** Stops the hashing threads; work still waiting is refused. */
  close?: () => Promise<void>
}

type Job = { kind: 'hash', password: string } | { kind: 'verify', stored: string, password: string }
type Outcome = ({ id: number, ok: true, value: string | boolean } | { id: number, ok: false, error: string }) & { resting: boolean, ms: number }

/** The thread's whole program: hash or verify each message in turn, synchronously, and answer. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const argon2 = require(workerData.argon2)
const options = workerData.options
if (workerData.lowPriority) {
  try { require('node:os').setPriority(${HASH_THREAD_NICE}) } catch {}
  try {
    const thread = require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()
    require('node:child_process').execFileSync('chrt', ['--idle', '--pid', '0', thread], { stdio: 'ignore', timeout: 5000 })
  } catch {}
}
function verify (stored, password) {
  try {
    return argon2.verifySync(stored, password)
  } catch {
    return false
  }
}
// 1 while the event loop is busy (set by the main thread): rest after each hash, as long as it took.
const loopBusy = new Int32Array(workerData.loopBusy)
parentPort.on('message', ({ id, job }) => {
  const started = performance.now()
  let outcome
  try {
    const value = job.kind === 'hash' ? argon2.hashSync(job.password, options) : verify(job.stored, job.password)
    outcome = { id, ok: true, value }
  } catch (error) {
    outcome = { id, ok: false, error: error instanceof Error ? error.message : String(error) }
  }
  outcome.resting = Atomics.load(loopBusy, 0) === 1
  outcome.ms = performance.now() - started
  parentPort.postMessage(outcome)
  if (outcome.resting) Atomics.wait(loopBusy, 0, 1, performance.now() - started)
})
`

interface Pending { resolve: (value: string | boolean) => void, reject: (error: Error) => void }

/**
 * The hashing thread's own V8 heap: it holds a password and a hash at a time (argon2's memory is the addon's,
 * outside the heap), so it gets a small budget instead of the main thread's, which would let its young
 * generation grow for nothing (decision 0022). Past it the thread ends, its jobs fail, and the next job
 * starts a new one.
 */
const HASH_THREAD_HEAP = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 }

/** One hashing thread and the jobs sent to it, answered in order. */
class HashThread {
  private worker: Worker | null = null
  readonly pending = new Map<number, Pending>()
  /** Hashes after which this thread rested because the event loop was busy. */
  rests = 0

  constructor (
    private readonly workerData: { argon2: string, options: Argon2Params, lowPriority: boolean, loopBusy: SharedArrayBuffer },
    private readonly observer: HashObserver | undefined
  ) {}

  run (id: number, job: Job): Promise<string | boolean> {
    const worker = this.worker ?? this.start()
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      // Held open only while it has work: an idle thread never keeps the process alive.
      if (this.pending.size === 1) worker.ref()
      worker.postMessage({ id, job })
    })
  }

  private start (): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: this.workerData, resourceLimits: HASH_THREAD_HEAP })
    worker.unref()
    worker.on('message', (outcome: Outcome) => {
      const waiting = this.pending.get(outcome.id)
      if (waiting === undefined) return
      this.pending.delete(outcome.id)
      if (outcome.resting) this.rests++
      this.observer?.hashed(outcome.ms / MS_PER_S)
      if (this.pending.size === 0) worker.unref()
      if (outcome.ok) waiting.resolve(outcome.value)
      else waiting.reject(new Error(outcome.error))
    })
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null
      for (const waiting of this.pending.values()) waiting.reject(error)
      this.pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => { fail(new Error(`password hashing thread exited (${code})`)) })
    this.worker = worker
    return worker
  }

  async stop (): Promise<void> {
    const worker = this.worker
    this.worker = null
    if (worker !== null) await worker.terminate()
  }
}

/** Whether the event loop was busy more than BUSY_LOOP_UTILIZATION of the time since the last call. */
export function eventLoopBusy (): () => boolean {
  let last = performance.eventLoopUtilization()
  return () => {
    const now = performance.eventLoopUtilization()
    const { utilization } = performance.eventLoopUtilization(now, last)
    last = now
    return utilization > BUSY_LOOP_UTILIZATION
  }
}

/** Told about each finished hash (its thread's time) and each request refused because the queue was full. */
export interface HashObserver {
  hashed: (seconds: number) => void
  refused: () => void
}

export interface HasherLimits {
  concurrency: number
  queue: number
  /** Asked every LOOP_CHECK_INTERVAL_MS and at the start; the event loop's utilization unless given (tests). */
  loopBusy?: () => boolean
  observer?: HashObserver
}

export function createPasswordHasher (params: Argon2Params, limits: HasherLimits): PasswordHasher {
  const loopBusy = new Int32Array(new SharedArrayBuffer(4))
  const isLoopBusy = limits.loopBusy ?? eventLoopBusy()
  const checkLoop = () => {
    const busy = isLoopBusy() ? 1 : 0
    if (Atomics.exchange(loopBusy, 0, busy) === 1 && busy === 0) Atomics.notify(loopBusy, 0)
  }
  checkLoop()
  const loopTimer = setInterval(checkLoop, LOOP_CHECK_INTERVAL_MS)
  loopTimer.unref()
  const workerData = {
    argon2: createRequire(import.meta.url).resolve('@node-rs/argon2'),
    options: { memoryCost: params.memoryCost, timeCost: params.timeCost, parallelism: params.parallelism },
    // On Linux a thread's priority is its own: only the hashing threads yield. Elsewhere it would be the process's.
    lowPriority: process.platform === 'linux',
    loopBusy: loopBusy.buffer as SharedArrayBuffer
  }
  const threads = Array.from({ length: Math.max(1, limits.concurrency) }, () => new HashThread(workerData, limits.observer))
  const capacity = threads.length + limits.queue
  let nextId = 0
  let inFlight = 0
  let dummyHash: Promise<string> | undefined

  /** Admits the job if a thread or a place in the queue is free, and gives it to the least busy thread. */
  async function submit (job: Job, admit = true): Promise<string | boolean> {
    if (admit && inFlight >= capacity) {
      limits.observer?.refused()
      throw new HasherBusyError()
    }
    let thread = threads[0]!
    for (const t of threads) if (t.pending.size < thread.pending.size) thread = t
    inFlight++
    try {
      return await thread.run(nextId++, job)
    } finally {
      inFlight--
    }
  }

  function dummy (): Promise<string> {
    dummyHash ??= (submit({ kind: 'hash', password: 'dummy password for unknown accounts' }, false) as Promise<string>)
      .catch((error: unknown) => {
        dummyHash = undefined
        throw error
      })
    return dummyHash
  }

  return {
    hash: async (password) => await submit({ kind: 'hash', password }) as string,
    verify: async (storedHash, password) => {
      if (storedHash === null) {
        const stored = await dummy()
        await submit({ kind: 'verify', stored, password })
        return false
      }
      // A stored hash that cannot be read verifies nothing: false, not an error.
      return await submit({ kind: 'verify', stored: storedHash, password }) === true
    },
    needsRehash: (storedHash) => {
      try {
        const parsed = parseOptions(storedHash)
        return Number(parsed.algorithm) !== ARGON2ID ||
          parsed.memoryCost < params.memoryCost ||
          parsed.timeCost < params.timeCost ||
          parsed.parallelism < params.parallelism
      } catch {
        return true
      }
    },
    restsAfterHashes: () => threads.reduce((sum, t) => sum + t.rests, 0),
    waiting: () => threads.reduce((sum, t) => sum + Math.max(0, t.pending.size - 1), 0),
    close: async () => {
      clearInterval(loopTimer)
      await Promise.all(threads.map(async (t) => { await t.stop() }))
    }
  }
}
