/**
 * The mail server the benchmark's production server delivers to (production requires SMTP_URL, and each
 * sign-up sends a confirmation email): an SMTP server on a free loopback port that accepts every message
 * and keeps nothing, so no delivery fails and retries while a figure is measured. close() stops it.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export interface SmtpSink {
  url: string
  /** Messages accepted so far. */
  accepted: () => number
  close: () => Promise<void>
}

export async function startSmtpSink (): Promise<SmtpSink> {
  let accepted = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData (stream, _session, callback) {
      stream.on('end', () => {
        accepted++
        callback()
      })
      stream.resume()
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server.server, 'listening')
  const { port } = server.server.address() as AddressInfo
  return {
    url: `smtp://127.0.0.1:${port}`,
    accepted: () => accepted,
    close: async () => { await new Promise<void>((resolve) => { server.close(() => { resolve() }) }) }
  }
}
