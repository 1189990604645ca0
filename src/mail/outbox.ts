/**
 * No message lost: a message is written to the outbox in the transaction of the change it tells of
 * (enqueueMail, with the caller's transaction), and a sender in each process delivers what is due. A
 * delivery is claimed first, so several processes sharing the database never send one message twice in
 * the normal case; a claim outlives any delivery's waits, so a sender that died mid-delivery (SIGKILL)
 * leaves a message that another sender, or the next start, takes over. A temporary failure is retried
 * after growing delays; a permanent refusal (SMTP 5xx), or a day of failures, gives up with an error
 * line and an account event.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { Clock } from '../auth/sessions.js'
import type { Db } from '../db/connect.js'
import { recordEvent } from '../db/queries/events.js'
import { anyDue, claimDue, insertOutboxMessage, markFailed, markSent, scheduleRetry } from '../db/queries/outbox.js'
import type { Database, OutboxMessage } from '../db/schema.js'
import type { MailMessage } from './messages/message.js'
import type { Transport } from './transport.js'

const SECOND_MS = 1000
const MINUTE_MS = 60 * SECOND_MS
/** Waits before the 2nd, 3rd, … attempt; the last one repeats until the message is a day old. */
export const RETRY_DELAYS_MS = [10 * SECOND_MS, 30 * SECOND_MS, MINUTE_MS, 2 * MINUTE_MS, 5 * MINUTE_MS, 10 * MINUTE_MS, 15 * MINUTE_MS, 30 * MINUTE_MS]
export const GIVE_UP_AFTER_MS = 24 * 60 * MINUTE_MS
/** How often each process looks for due messages it was not told of (retries, another process's leftovers). */
export const POLL_INTERVAL_MS = 5 * SECOND_MS
/** A claim lasts this many mail timeouts: longer than any one delivery's connect, greeting and replies. */
const CLAIM_TIMEOUTS = 10
const CLAIM_BATCH = 10

export function retryDelayMs (attempts: number): number {
  return RETRY_DELAYS_MS[Math.min(Math.max(attempts, 1), RETRY_DELAYS_MS.length) - 1]!
}

/** Writes the message with the caller's transaction: it exists exactly when the change it tells of does. */
export async function enqueueMail (trx: Kysely<Database>, to: { userId: number | null, address: string }, message: MailMessage, now: number): Promise<number> {
  return await insertOutboxMessage(trx, { userId: to.userId, kind: message.kind, recipient: to.address, subject: message.subject, text: message.text, html: message.html, now })
}

export interface Outbox {
  /** After a commit that enqueued mail: deliver soon, in this process. */
  kick: () => void
  /** One delivery pass over what is due now; resolves with the number of messages delivered. */
  deliverDue: () => Promise<number>
  /** Work that enqueues mail after a response was sent (password reset requests): awaited on close and by idle(). */
  track: (work: Promise<unknown>) => void
  /** Resolves when tracked work and the delivery passes it started are done (tests, shutdown). */
  idle: () => Promise<void>
  start: () => void
  close: () => Promise<void>
}

interface OutboxDeps {
  db: Db
  clock: Clock
  transport: Transport
  log: FastifyBaseLogger
  timeoutMs: number
}

function describeError (error: unknown): { message: string, permanent: boolean, code?: string, responseCode?: number } {
  const e = error as { message?: unknown, permanent?: unknown, code?: unknown, responseCode?: unknown }
  return {
    message: typeof e.message === 'string' ? e.message.slice(0, 500) : String(error).slice(0, 500),
    permanent: e.permanent === true,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.responseCode === 'number' ? { responseCode: e.responseCode } : {})
  }
}

export function createOutbox ({ db, clock, transport, log, timeoutMs }: OutboxDeps): Outbox {
  const leaseMs = CLAIM_TIMEOUTS * timeoutMs
  let running: Promise<number> | null = null
  let again = false
  let timer: NodeJS.Timeout | undefined
  let closed = false
  const tracked = new Set<Promise<unknown>>()
  const open = () => !closed

  async function deliverOne (message: OutboxMessage): Promise<boolean> {
    const fields = { mailId: message.id, kind: message.kind, attempt: message.attempts }
    try {
      await transport.send({ to: message.recipient, subject: message.subject, text: message.text_body, html: message.html_body })
    } catch (error) {
      const failure = describeError(error)
      const now = clock()
      if (failure.permanent || now - message.created_at >= GIVE_UP_AFTER_MS) {
        await markFailed(db.kysely, message.id, now, failure.message)
        if (message.user_id !== null) await recordEvent(db.kysely, message.user_id, 'mail_failed', { ip: '', userAgent: '', now })
        log.error({ ...fields, error: failure }, 'mail given up: not delivered')
      } else {
        const at = now + retryDelayMs(message.attempts)
        await scheduleRetry(db.kysely, message.id, at, failure.message)
        log.warn({ ...fields, error: failure, retryInMs: at - now }, 'mail not delivered yet: will retry')
      }
      return false
    }
    await markSent(db.kysely, message.id, clock(), transport.keepsBody)
    log.info(fields, 'mail delivered')
    return true
  }

  async function pass (): Promise<number> {
    let delivered = 0
    for (;;) {
      const now = clock()
      if (!await anyDue(db.kysely, now)) return delivered
      const claimed = await claimDue(db.kysely, db.dialect, now, leaseMs, CLAIM_BATCH)
      if (claimed.length === 0) return delivered
      for (const message of claimed) if (await deliverOne(message)) delivered++
      if (closed) return delivered
    }
  }

  /** One pass at a time in this process; a request for another while one runs makes one more afterwards. */
  async function deliverDue (): Promise<number> {
    if (running !== null) {
      again = true
      return await running
    }
    running = (async () => {
      let total = 0
      do {
        again = false
        total += await pass()
      } while (again && open())
      return total
    })()
    try {
      return await running
    } finally {
      running = null
    }
  }

  function background (): void {
    if (closed) return
    deliverDue().catch((error: unknown) => { log.error({ err: error }, 'mail delivery pass failed') })
  }

  return {
    kick: () => { setImmediate(background) },
    deliverDue,
    track (work) {
      const settled = work.then(() => {}, (error: unknown) => { log.error({ err: error }, 'background mail work failed') })
        .finally(() => { tracked.delete(settled) })
      tracked.add(settled)
    },
    async idle () {
      while (tracked.size > 0) await Promise.all(tracked)
      await deliverDue()
    },
    start () {
      timer = setInterval(background, POLL_INTERVAL_MS)
      timer.unref()
      setImmediate(background)
    },
    async close () {
      clearInterval(timer)
      await Promise.all(tracked)
      closed = true
      await running?.catch(() => 0)
      transport.close()
    }
  }
}
