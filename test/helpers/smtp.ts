/**
 * A real SMTP server for the tests (smtp-server), on a free loopback port: it keeps every message it
 * accepted, parsed by mailparser, and can be told to refuse the next messages with a temporary (4xx) or
 * permanent (5xx) reply, or to hold every new connection without a greeting. Waiting for a message is
 * event-driven, bounded by a timeout; nothing sleeps.
 */
import { EventEmitter, once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer, type SMTPServerSession } from 'smtp-server'

export interface ReceivedMail {
  to: string
  subject: string
  text: string
  html: string
  parsed: ParsedMail
}

export interface TestSmtp {
  url: string
  port: number
  received: ReceivedMail[]
  /** Connections made so far (held ones included). */
  connections: () => number
  /** Resolves with the first message (already received or to come) that matches; rejects after timeoutMs. */
  waitFor: (match: (m: ReceivedMail) => boolean, timeoutMs?: number) => Promise<ReceivedMail>
  /** Resolves once `count` connections were made in all. */
  waitForConnections: (count: number, timeoutMs?: number) => Promise<void>
  /** The next `count` messages get this reply instead of being accepted. */
  refuseNext: (count: number, responseCode: number, message?: string) => void
  /** While true, a new connection gets no greeting (a server that hangs). */
  hold: (on: boolean) => void
  close: () => Promise<void>
}

const WAIT_MS = 10_000

/** The link in a message's text that starts with `prefix` (PUBLIC_URL and a path). */
export function linkIn (mail: ReceivedMail, prefix: string): string {
  const link = mail.text.match(/https?:\/\/\S+/g)?.find((l) => l.startsWith(prefix))
  if (link === undefined) throw new Error(`no link starting with ${prefix} in "${mail.subject}":\n${mail.text}`)
  return link
}

export async function startTestSmtp (port = 0): Promise<TestSmtp> {
  const received: ReceivedMail[] = []
  const events = new EventEmitter()
  let refusals: Array<{ responseCode: number, message: string }> = []
  let holding = false
  let connections = 0
  const held = new Set<() => void>()
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect (_session: SMTPServerSession, callback) {
      connections++
      events.emit('connection')
      if (holding) held.add(() => { callback(new Error('closing')) })
      else callback()
    },
    onData (stream, session, callback) {
      simpleParser(stream).then((parsed) => {
        const refusal = refusals.shift()
        if (refusal !== undefined) {
          callback(Object.assign(new Error(refusal.message), { responseCode: refusal.responseCode }))
          return
        }
        const to = session.envelope.rcptTo.map((r) => r.address).join(', ')
        const mail = { to, subject: parsed.subject ?? '', text: parsed.text ?? '', html: typeof parsed.html === 'string' ? parsed.html : '', parsed }
        received.push(mail)
        callback()
        events.emit('mail', mail)
      }, (error: unknown) => { callback(error as Error) })
    }
  })
  server.listen(port, '127.0.0.1')
  await once(server.server, 'listening')
  const actual = (server.server.address() as AddressInfo).port

  return {
    url: `smtp://127.0.0.1:${actual}`,
    port: actual,
    received,
    connections: () => connections,
    async waitFor (match, timeoutMs = WAIT_MS) {
      const found = received.find(match)
      if (found !== undefined) return found
      return await new Promise((resolve, reject) => {
        const onMail = (mail: ReceivedMail) => {
          if (!match(mail)) return
          clearTimeout(timer)
          events.off('mail', onMail)
          resolve(mail)
        }
        const timer = setTimeout(() => {
          events.off('mail', onMail)
          reject(new Error(`no matching mail within ${timeoutMs} ms; received: ${received.map((m) => `${m.to}: ${m.subject}`).join('; ') || 'nothing'}`))
        }, timeoutMs)
        events.on('mail', onMail)
      })
    },
    async waitForConnections (count, timeoutMs = WAIT_MS) {
      if (connections >= count) return
      await new Promise<void>((resolve, reject) => {
        const onConnection = () => {
          if (connections < count) return
          clearTimeout(timer)
          events.off('connection', onConnection)
          resolve()
        }
        const timer = setTimeout(() => {
          events.off('connection', onConnection)
          reject(new Error(`only ${connections} of ${count} connections within ${timeoutMs} ms`))
        }, timeoutMs)
        events.on('connection', onConnection)
      })
    },
    refuseNext (count, responseCode, message = responseCode >= 500 ? 'Mailbox unavailable' : 'Try again later') {
      refusals = Array.from({ length: count }, () => ({ responseCode, message }))
    },
    hold (on) {
      holding = on
      if (!on) {
        for (const release of held) release()
        held.clear()
      }
    },
    close: async () => {
      for (const release of held) release()
      held.clear()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
