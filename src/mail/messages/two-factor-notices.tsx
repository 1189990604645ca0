/** Notices for changes to an account's second factor: told to the owner, since an attacker would make them quietly. */
import { htmlDocument, type MailMessage, plainText } from './message.js'

export type TwoFactorChange = 'enabled' | 'disabled' | 'recovery-codes' | 'reset'

const WHAT: Record<TwoFactorChange, { subject: string, told: string }> = {
  enabled: { subject: 'Two-factor authentication is on', told: 'two-factor authentication was turned on for your Paws Rescue Center account. Logging in now also asks for a code from your authenticator app.' },
  disabled: { subject: 'Two-factor authentication is off', told: 'two-factor authentication was turned off for your Paws Rescue Center account. Logging in now asks only for your password.' },
  'recovery-codes': { subject: 'New recovery codes', told: 'new recovery codes were made for your Paws Rescue Center account. The old ones no longer work.' },
  reset: { subject: 'Two-factor authentication was reset', told: 'the rescue team turned off two-factor authentication on your Paws Rescue Center account, as asked. You can set it up again from your account page.' }
}

export function twoFactorNoticeMail ({ name, change, publicUrl }: { name: string, change: TwoFactorChange, publicUrl: string }): MailMessage {
  const { subject, told } = WHAT[change]
  const paragraphs = [
    `Hello ${name}, ${told}`,
    `If this was not you, reset your password at once (${publicUrl}/password-reset) and contact the rescue team.`
  ]
  return {
    kind: `notice_two_factor_${change.replace('-', '_')}`,
    subject: `${subject} - Paws Rescue Center`,
    text: plainText(...paragraphs),
    html: htmlDocument(subject, <>{paragraphs.map((p) => <p safe>{p}</p>)}</>)
  }
}
