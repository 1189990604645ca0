/**
 * Security notices: told to the account's owner whenever something that guards the account changes, so
 * a change they did not make does not go unnoticed. They carry no link with a token.
 */
import { htmlDocument, type MailMessage, plainText } from './message.js'

function notice (kind: string, subject: string, paragraphs: string[]): MailMessage {
  return {
    kind,
    subject: `${subject} - Paws Rescue Center`,
    text: plainText(...paragraphs),
    html: htmlDocument(subject, <>{paragraphs.map((p) => <p safe>{p}</p>)}</>)
  }
}

function ifNotYou (accountUrl: string): string {
  return `If this was not you, reset your password at once (${accountUrl}/password-reset) and contact the rescue team.`
}

export function passwordChangedMail ({ name, publicUrl, byReset }: { name: string, publicUrl: string, byReset: boolean }): MailMessage {
  return notice('notice_password_changed', 'Your password was changed', [
    `Hello ${name}, the password of your Paws Rescue Center account was just changed${byReset ? ' with a reset link' : ' from your account page'}. Every other session has been logged out.`,
    ifNotYou(publicUrl)
  ])
}

export function emailChangeRequestedMail ({ name, newEmail, publicUrl }: { name: string, newEmail: string, publicUrl: string }): MailMessage {
  return notice('notice_email_change_requested', 'A change of your email address was asked for', [
    `Hello ${name}, someone signed in to your Paws Rescue Center account asked to change its email address to ${newEmail}. Nothing changes unless that address confirms it.`,
    ifNotYou(publicUrl)
  ])
}

export function emailChangedMail ({ name, newEmail, publicUrl }: { name: string, newEmail: string, publicUrl: string }): MailMessage {
  return notice('notice_email_changed', 'Your email address was changed', [
    `Hello ${name}, the email address of your Paws Rescue Center account is now ${newEmail}. We will no longer write to this address.`,
    `If this was not you, contact the rescue team at once. You can also reset the password from ${publicUrl}/password-reset.`
  ])
}

export function passkeyNoticeMail ({ name, passkeyName, change, publicUrl }: { name: string, passkeyName: string, change: 'added' | 'removed', publicUrl: string }): MailMessage {
  return change === 'added'
    ? notice('notice_passkey_added', 'A passkey was added to your account', [
      `Hello ${name}, a passkey named "${passkeyName}" was added to your Paws Rescue Center account. It can now log in to the account without the password.`,
      `If this was not you, remove it from your account page (${publicUrl}/account), reset your password at once (${publicUrl}/password-reset) and contact the rescue team.`
    ])
    : notice('notice_passkey_removed', 'A passkey was removed from your account', [
      `Hello ${name}, the passkey named "${passkeyName}" was removed from your Paws Rescue Center account. It can no longer log in.`,
      ifNotYou(publicUrl)
    ])
}
