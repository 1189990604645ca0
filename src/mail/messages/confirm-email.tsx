/** The link that confirms an address: after sign-up, on request from /account, and for a new address. */
import { ButtonLink, htmlDocument, type MailMessage, plainText } from './message.js'

export function confirmEmailMail ({ name, link, change }: { name: string, link: string, change: boolean }): MailMessage {
  const subject = 'Confirm your email address'
  const intro = change
    ? `Hello ${name}, you asked to use this address for your Paws Rescue Center account. Your address changes once you confirm it.`
    : `Hello ${name}, welcome to Paws Rescue Center! Please confirm that this address is yours.`
  const validity = 'The link works once, for 24 hours. If you did not ask for this, ignore this email and nothing changes.'
  return {
    kind: change ? 'email_change' : 'email_verification',
    subject: `${subject} - Paws Rescue Center`,
    text: plainText(intro, `Confirm it here:\n${link}`, validity),
    html: htmlDocument(subject, (
      <>
        <p safe>{intro}</p>
        <ButtonLink href={link} label='Confirm my email address' />
        <p>{validity}</p>
      </>
    ))
  }
}
