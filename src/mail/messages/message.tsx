/**
 * What every message is made of: a subject, a plain-text part (always) and an HTML part, both from the
 * same props. The HTML is a TSX function like the pages, so every value is escaped at the leaves.
 */
import type { PropsWithChildren } from '@kitajs/html'
import { renderedNow } from '../../views/sync.js'

export interface MailMessage {
  /** Which message this is, for the log and the outbox's record; never any of its content. */
  kind: string
  subject: string
  text: string
  html: string
}

export const SITE_NAME = 'Paws Rescue Center'

/** The plain-text part: paragraphs separated by blank lines, then the signature. */
export function plainText (...paragraphs: string[]): string {
  return [...paragraphs, `— ${SITE_NAME}`].join('\n\n') + '\n'
}

export function htmlDocument (subject: string, body: JSX.Element): string {
  return '<!doctype html>' + renderedNow(
    <html lang='en'>
      <head>
        <meta charset='utf-8' />
        <title safe>{subject}</title>
      </head>
      <body style='font-family: system-ui, sans-serif; line-height: 1.5; color: #1f2933; max-width: 36rem; margin: 0 auto; padding: 1rem;'>
        {body}
        <p style='color: #52606d;'>— {SITE_NAME}</p>
      </body>
    </html>
  )
}

export function Paragraph ({ children }: PropsWithChildren): JSX.Element {
  return <p>{children}</p>
}

/** A link shown as a button, with the address written out beneath for clients that hide links. */
export function ButtonLink ({ href, label }: { href: string, label: string }): JSX.Element {
  return (
    <>
      <p><a href={href} style='display: inline-block; padding: 0.6rem 1.2rem; background: #0b7285; color: #ffffff; text-decoration: none; border-radius: 0.3rem;' safe>{label}</a></p>
      <p style='font-size: 0.9rem; color: #52606d;'>Or copy this address into your browser: <span safe>{href}</span></p>
    </>
  )
}
