/**
 * The account page: who you are, where you are signed in (with buttons to end sessions), a password
 * change form and the recent history of the account.
 */
import type { AccountEventType } from '../../db/schema.js'
import type { PageContext } from '../context.js'
import { Layout } from '../layout.js'
import { CsrfField } from '../components/csrf-field.js'
import { DataTable } from '../components/data-table.js'
import { Field } from '../components/field.js'
import { formatDate, formatDateTime, isoTime } from '../format.js'
import { PASSKEY_SCRIPT } from '../components/passkey-script.js'

export interface AccountPasskeyView {
  id: number
  name: string
  createdAt: number
  lastUsedAt: number | null
}

export const PASSKEY_REGISTER_OPTIONS_PATH = '/passkeys/register/options'
export const PASSKEY_REGISTER_VERIFY_PATH = '/passkeys/register/verify'

export interface AccountSessionView {
  id: string
  device: string
  ip: string
  lastSeenAt: number
  createdAt: number
  remember: boolean
  current: boolean
}

export interface AccountEventView {
  type: AccountEventType
  ip: string
  at: number
  /** Someone of the rescue team did it, not the owner. */
  byTeam: boolean
  detail: string | null
}

export type PasswordErrors = Partial<Record<'currentPassword' | 'newPassword' | 'confirmPassword', string>>
export type EmailErrors = Partial<Record<'newEmail' | 'password', string>>

export interface AccountPageProps {
  ctx: PageContext
  account: { fullName: string, email: string, role: string, createdAt: number, emailConfirmed: boolean, pendingEmail: string | null }
  /** null: two-factor authentication is off; otherwise the recovery codes left. */
  recoveryCodesLeft: number | null
  sessions: AccountSessionView[]
  passkeys: AccountPasskeyView[]
  /** A rename form that failed: which passkey, and why. */
  passkeyError?: { id: number, message: string } | undefined
  events: AccountEventView[]
  passwordErrors?: PasswordErrors | undefined
  emailErrors?: EmailErrors | undefined
  newEmail?: string
}

export const EVENT_LABELS: Record<AccountEventType, string> = {
  signup: 'Account created',
  login: 'Logged in',
  login_failed: 'Failed login',
  login_throttled: 'Login refused (too many attempts)',
  logout: 'Logged out',
  password_changed: 'Password changed',
  session_ended: 'Session ended',
  other_sessions_ended: 'Other sessions ended',
  sessions_revoked: 'All sessions revoked by an operator',
  role_changed: 'Role changed',
  password_reset_requested: 'Password reset link asked for',
  password_reset: 'Password reset with an emailed link',
  email_verified: 'Email address confirmed',
  email_change_requested: 'Change of email address asked for',
  email_changed: 'Email address changed',
  mail_failed: 'An email to you could not be delivered',
  two_factor_enabled: 'Two-factor authentication turned on',
  two_factor_disabled: 'Two-factor authentication turned off',
  recovery_codes_generated: 'New recovery codes made',
  recovery_code_used: 'Logged in with a recovery code',
  two_factor_reset: 'Two-factor authentication reset by an operator',
  two_factor_failed: 'Wrong two-factor code',
  passkey_added: 'Passkey added',
  passkey_removed: 'Passkey removed',
  passkey_renamed: 'Passkey renamed',
  suspended: 'Account suspended',
  restored: 'Account restored',
  login_suspended: 'Login refused: the account is suspended',
  staff_ended_session: 'Session ended',
  staff_ended_sessions: 'Every session ended',
  staff_action: 'Action on another account'
}

/** Events whose detail the owner sees (the new role, the account a staff action was on); a suspension's reason is for the team. */
const DETAIL_SHOWN: ReadonlySet<AccountEventType> = new Set(['role_changed', 'staff_action'])

/** "Role changed by the rescue team: staff": the label, who did it when not the owner, and what the owner may read of it. */
function describeEvent (e: AccountEventView): string {
  const by = e.byTeam ? ' by the rescue team' : ''
  const detail = DETAIL_SHOWN.has(e.type) && e.detail !== null ? `: ${e.detail}` : ''
  return `${EVENT_LABELS[e.type]}${by}${detail}`
}

function When ({ ms }: { ms: number }): JSX.Element {
  return <time datetime={isoTime(ms)} safe>{formatDateTime(ms)}</time>
}

function PasskeysSection ({ token, passkeys, error }: { token: string, passkeys: AccountPasskeyView[], error: AccountPageProps['passkeyError'] }): JSX.Element {
  return (
    <section
      aria-labelledby='passkeys-heading' class='panel' data-passkey-register data-csrf={token}
      data-options-url={PASSKEY_REGISTER_OPTIONS_PATH} data-verify-url={PASSKEY_REGISTER_VERIFY_PATH}
    >
      <h2 id='passkeys-heading'>Passkeys</h2>
      <p>A passkey logs you in with your fingerprint, face, screen lock or a security key instead of your password. Your password keeps working.</p>
      {passkeys.length === 0
        ? <p>You have no passkeys yet.</p>
        : (
          <div class='table-wrap'>
            <table class='stack-table'>
              <caption class='visually-hidden'>Your passkeys</caption>
              <thead><tr><th scope='col'>Name</th><th scope='col'>Added</th><th scope='col'>Last used</th><th scope='col'><span class='visually-hidden'>Action</span></th></tr></thead>
              <tbody>
                {passkeys.map((p) => {
                  const failed = error !== undefined && error.id === p.id
                  return (
                    <tr>
                      <td data-label='Name'>
                        <form method='post' action={`/account/passkeys/${p.id}/rename`} class='inline-form'>
                          <CsrfField token={token} />
                          <label class='visually-hidden' for={`passkey-name-${p.id}`}>Name of the passkey</label>
                          <input
                            id={`passkey-name-${p.id}`} name='name' type='text' value={p.name} required maxlength='60'
                            aria-invalid={failed ? 'true' : undefined} aria-describedby={failed ? `passkey-name-${p.id}-error` : undefined}
                          />
                          <button type='submit' class='button button-small button-secondary'>Rename<span class='visually-hidden'> passkey <span safe>{p.name}</span></span></button>
                          {failed && <p class='field-error' id={`passkey-name-${p.id}-error`} safe>{error.message}</p>}
                        </form>
                      </td>
                      <td data-label='Added'><When ms={p.createdAt} /></td>
                      <td data-label='Last used'>{p.lastUsedAt === null ? 'Never' : <When ms={p.lastUsedAt} />}</td>
                      <td>
                        <form method='post' action={`/account/passkeys/${p.id}/remove`} class='inline-form'>
                          <CsrfField token={token} />
                          <button type='submit' class='button button-small button-secondary'>Remove<span class='visually-hidden'> passkey <span safe>{p.name}</span></span></button>
                        </form>
                      </td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
          )}
      <button type='button' class='button' hidden data-passkey-button>Add a passkey</button>
      <p class='hint' data-passkey-needs-script>Adding a passkey needs JavaScript and a browser that supports passkeys.</p>
      <p role='status' data-passkey-status />
    </section>
  )
}

export function AccountPage ({ ctx, account, recoveryCodesLeft, sessions, passkeys, passkeyError, events, passwordErrors, emailErrors, newEmail = '' }: AccountPageProps): JSX.Element {
  const token = ctx.csrfToken()
  const others = sessions.filter((s) => !s.current).length
  return (
    <Layout title='Your account' ctx={ctx} scripts={[PASSKEY_SCRIPT]}>
      <h1>Your account</h1>
      <section aria-labelledby='profile-heading' class='panel'>
        <h2 id='profile-heading'>Profile</h2>
        <dl class='facts'>
          <dt>Name</dt><dd safe>{account.fullName}</dd>
          <dt>Email</dt>
          <dd>
            <span safe>{account.email}</span>
            {account.emailConfirmed ? <span class='badge badge-quiet'>confirmed</span> : <strong class='badge'>not confirmed</strong>}
          </dd>
          <dt>Role</dt><dd>{account.role === 'staff' ? 'Rescue team' : 'Adopter'}</dd>
          <dt>Member since</dt><dd><time datetime={isoTime(account.createdAt)} safe>{formatDate(account.createdAt)}</time></dd>
        </dl>
        {!account.emailConfirmed && (
          <form method='post' action='/account/verify-email' class='form'>
            <CsrfField token={token} />
            <p>Your email address is not confirmed yet. Follow the link we sent you, or ask for a new one.</p>
            <button type='submit' class='button button-secondary'>Send a new confirmation link</button>
          </form>
        )}
      </section>

      <section aria-labelledby='two-factor-heading' class='panel'>
        <h2 id='two-factor-heading'>Two-factor authentication</h2>
        {recoveryCodesLeft === null
          ? <p>Off. Logging in asks only for your password. <a href='/account/two-factor'>Set up two-factor authentication</a></p>
          : <p>On, with {recoveryCodesLeft} recovery code{recoveryCodesLeft === 1 ? '' : 's'} left. <a href='/account/two-factor'>Manage two-factor authentication</a></p>}
      </section>

      <PasskeysSection token={token} passkeys={passkeys} error={passkeyError} />

      <section aria-labelledby='email-heading' class='panel'>
        <h2 id='email-heading'>Change email address</h2>
        {account.pendingEmail !== null && (
          <p role='status'>We sent a link to <strong safe>{account.pendingEmail}</strong>. Your address changes once you follow it.</p>
        )}
        <p>We send a link to the new address; your address changes when you follow it. Your current address is told of the change.</p>
        <form method='post' action='/account/email' class='form' novalidate>
          <CsrfField token={token} />
          <Field name='newEmail' label='New email address' type='email' value={newEmail} autocomplete='email' error={emailErrors?.newEmail} maxlength={254} />
          <Field name='password' label='Your password' type='password' autocomplete='current-password' error={emailErrors?.password} maxlength={256} />
          <button type='submit' class='button'>Change email address</button>
        </form>
      </section>

      <section aria-labelledby='sessions-heading' class='panel'>
        <h2 id='sessions-heading'>Where you are signed in</h2>
        <DataTable caption='Active sessions' columns={['Device', 'IP address', 'Last seen', { hidden: 'Action' }]}>
          {sessions.map((s) => (
            <tr>
              <td data-label='Device'><span safe>{s.device}</span>{s.current && <strong class='badge'>this device</strong>}{s.remember && <span class='badge badge-quiet'>remembered</span>}</td>
              <td data-label='IP address' safe>{s.ip}</td>
              <td data-label='Last seen'><When ms={s.lastSeenAt} /></td>
              <td>
                {s.current
                  ? ''
                  : (
                    <form method='post' action='/account/sessions/end' class='inline-form'>
                      <CsrfField token={token} />
                      <input type='hidden' name='sessionId' value={s.id} />
                      <button type='submit' class='button button-small button-secondary'>End session<span class='visually-hidden'> on <span safe>{s.device}</span></span></button>
                    </form>
                    )}
              </td>
            </tr>
          ))}
        </DataTable>
        {others > 0 && (
          <form method='post' action='/account/sessions/end-others' class='form'>
            <CsrfField token={token} />
            <button type='submit' class='button button-secondary'>Log out other sessions</button>
          </form>
        )}
      </section>

      <section aria-labelledby='password-heading' class='panel'>
        <h2 id='password-heading'>Change password</h2>
        <p>Changing your password logs you out everywhere else.</p>
        <form method='post' action='/account/password' class='form' novalidate>
          <CsrfField token={token} />
          <Field name='currentPassword' label='Current password' type='password' autocomplete='current-password' error={passwordErrors?.currentPassword} maxlength={256} />
          <Field name='newPassword' label='New password' type='password' autocomplete='new-password' hint='At least 8 characters. Avoid common passwords.' error={passwordErrors?.newPassword} minlength={8} maxlength={256} />
          <Field name='confirmPassword' label='Confirm new password' type='password' autocomplete='new-password' error={passwordErrors?.confirmPassword} maxlength={256} />
          <button type='submit' class='button'>Change password</button>
        </form>
      </section>

      <section aria-labelledby='events-heading' class='panel'>
        <h2 id='events-heading'>Recent activity</h2>
        {events.length === 0
          ? <p>No activity yet.</p>
          : (
            <DataTable caption='The last 20 events on your account' columns={['What', 'When', 'IP address']}>
              {events.map((e) => (
                <tr><td data-label='What' safe>{describeEvent(e)}</td><td data-label='When'><When ms={e.at} /></td><td data-label='IP address' safe>{e.ip}</td></tr>
              ))}
            </DataTable>
            )}
      </section>
    </Layout>
  )
}
