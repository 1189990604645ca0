/** The password reset link, sent when someone asks for it on /password-reset. */
import { ButtonLink, htmlDocument, type MailMessage, plainText } from './message.js'

export function passwordResetMail ({ name, link, validMinutes }: { name: string, link: string, validMinutes: number }): MailMessage {
  const subject = 'Reset your password'
  const intro = `Hello ${name}, someone (we hope you) asked to reset the password of your Paws Rescue Center account.`
  const validity = `The link works once, for ${validMinutes} minutes. If you did not ask for it, ignore this email: your password stays as it is.`
  return {
    kind: 'password_reset',
    subject: `${subject} - Paws Rescue Center`,
    text: plainText(intro, `Choose a new password here:\n${link}`, validity),
    html: htmlDocument(subject, (
      <>
        <p safe>{intro}</p>
        <ButtonLink href={link} label='Choose a new password' />
        <p safe>{validity}</p>
      </>
    ))
  }
}
