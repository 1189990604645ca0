/**
 * How a message leaves: over SMTP with nodemailer (STARTTLS whenever the server offers it on smtp://,
 * TLS from the start on smtps://, certificates verified), or, in development without SMTP_URL, into the
 * log with the message's links, so a newcomer can follow a reset link with nothing but `npm start`.
 * Neither logs a message's body over SMTP; every wait of a delivery is bounded by the mail timeout.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Transporter } from 'nodemailer'
import type { Config } from '../config.js'

export interface Envelope {
  to: string
  subject: string
  text: string
  html: string
}

export interface Transport {
  /** Resolves once the server accepted the message; rejects with nodemailer's error (its `permanent` flag set for 5xx replies). */
  send: (message: Envelope) => Promise<void>
  /** The development mailer keeps delivered bodies so `npm run cli -- mail` can show their links. */
  readonly keepsBody: boolean
  readonly description: string
  close: () => void
}

const LINK = /https?:\/\/[^\s<>"]+/g

export function linksIn (text: string): string[] {
  return [...new Set(text.match(LINK) ?? [])]
}

/** The SMTP URL without its password, for the log. */
export function describeSmtpUrl (url: string): string {
  const parsed = new URL(url)
  if (parsed.password !== '') parsed.password = '***'
  return parsed.toString()
}

export function createMailTransport (config: Config['mail'], log: FastifyBaseLogger): Transport {
  if (config.smtpUrl === null) {
    return {
      keepsBody: true,
      description: 'development log (no SMTP_URL)',
      send: async (message) => {
        log.info({ to: message.to, subject: message.subject, links: linksIn(message.text) }, 'mail (development: not sent; npm run cli -- mail lists it)')
      },
      close: () => {}
    }
  }
  const smtpUrl = config.smtpUrl
  // nodemailer is loaded by the first message this process sends, not at start (decision 0022).
  let transporter: Promise<Transporter> | undefined
  const open = async () => await (transporter ??= import('nodemailer').then(({ createTransport }) => createTransport({
    url: smtpUrl,
    connectionTimeout: config.timeoutMs,
    greetingTimeout: config.timeoutMs,
    socketTimeout: config.timeoutMs,
    dnsTimeout: config.timeoutMs,
    logger: false,
    debug: false
  })))
  return {
    keepsBody: false,
    description: describeSmtpUrl(smtpUrl),
    send: async (message) => {
      await (await open()).sendMail({ from: config.from, to: message.to, subject: message.subject, text: message.text, html: message.html })
    },
    close: () => { transporter?.then((t) => { t.close() }, () => {}) }
  }
}
