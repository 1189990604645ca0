/**
 * Two-factor pages: setting it up (a QR code drawn on the server, the secret for typing by hand, a code
 * to confirm), the recovery codes shown once, managing it once on, and the code step of a login.
 */
import type { PageContext } from '../context.js'
import { Layout } from '../layout.js'
import { CsrfField } from '../components/csrf-field.js'
import { Field } from '../components/field.js'

export const WRONG_CODE = 'That code is not right. Please try again.'

function CodeField ({ error, label = 'Code from your authenticator app' }: { error?: string | undefined, label?: string }): JSX.Element {
  return <Field name='code' label={label} autocomplete='one-time-code' error={error} maxlength={64} hint='Six digits, or one of your recovery codes.' />
}

/** Groups of four, for reading the secret off the screen into an app by hand. */
function grouped (secret: string): string {
  return secret.match(/.{1,4}/g)?.join(' ') ?? secret
}

export interface SetupProps {
  ctx: PageContext
  secret: string
  /** The otpauth:// URI: a phone with an authenticator app opens it directly. */
  uri: string
  safeQrSvg: string
  error?: string | undefined
  required: boolean
}

export function TwoFactorSetupPage ({ ctx, secret, uri, safeQrSvg, error, required }: SetupProps): JSX.Element {
  return (
    <Layout title='Set up two-factor authentication' ctx={ctx}>
      <section class='panel'>
        <h1>Set up two-factor authentication</h1>
        {required && <p role='alert' class='form-error'>The rescue team's accounts need two-factor authentication before they can manage pets or people.</p>}
        <p>Logging in will ask for a code from an authenticator app on your phone as well as your password.</p>
        <ol class='steps'>
          <li>
            <p>Scan this QR code with your authenticator app (for example Google Authenticator, Microsoft Authenticator, 1Password or Aegis).</p>
            <div class='qr' role='img' aria-label='QR code to add Paws Rescue Center to your authenticator app'>{safeQrSvg}</div>
            <p>On this phone? <a href={uri}>Open it in your authenticator app</a>.</p>
          </li>
          <li>
            <p>Or type this key into the app by hand (time-based, 6 digits):</p>
            <p><code class='secret' id='two-factor-secret' data-secret={secret} safe>{grouped(secret)}</code></p>
          </li>
          <li>
            <p>Enter the code the app shows to turn it on.</p>
            <form method='post' action='/account/two-factor/enable' class='form' novalidate>
              <CsrfField token={ctx.csrfToken()} />
              <Field name='code' label='Code from your authenticator app' autocomplete='one-time-code' error={error} maxlength={64} />
              <button type='submit' class='button'>Turn on two-factor authentication</button>
            </form>
          </li>
        </ol>
      </section>
    </Layout>
  )
}

export function RecoveryCodesPage ({ ctx, codes, first }: { ctx: PageContext, codes: string[], first: boolean }): JSX.Element {
  return (
    <Layout title='Your recovery codes' ctx={ctx}>
      <section class='panel'>
        <h1>{first ? 'Two-factor authentication is on' : 'Your new recovery codes'}</h1>
        <p role='status'>Keep these recovery codes somewhere safe, such as a password manager or a printed page. Each one logs you in once if you lose your phone. They are shown only now{first ? '' : ', and the old ones no longer work'}.</p>
        <ul class='recovery-codes' aria-label='Recovery codes'>
          {codes.map((code) => <li><code safe>{code}</code></li>)}
        </ul>
        <p><a href='/account' class='button'>I have saved them: back to my account</a></p>
      </section>
    </Layout>
  )
}

export type ManageErrors = Partial<Record<'password' | 'disablePassword' | 'code', string>>

export function TwoFactorManagePage ({ ctx, codesLeft, errors }: { ctx: PageContext, codesLeft: number, errors: ManageErrors }): JSX.Element {
  const token = ctx.csrfToken()
  return (
    <Layout title='Two-factor authentication' ctx={ctx}>
      <h1>Two-factor authentication</h1>
      <section class='panel' aria-labelledby='status-heading'>
        <h2 id='status-heading'>Status</h2>
        <p>Two-factor authentication is <strong>on</strong>. You have <strong>{codesLeft}</strong> recovery code{codesLeft === 1 ? '' : 's'} left.</p>
      </section>
      <section class='panel' aria-labelledby='codes-heading'>
        <h2 id='codes-heading'>New recovery codes</h2>
        <p>Makes ten new codes; the old ones stop working.</p>
        <form method='post' action='/account/two-factor/recovery-codes' class='form' novalidate>
          <CsrfField token={token} />
          <Field name='password' label='Your password' type='password' autocomplete='current-password' error={errors.password} maxlength={256} />
          <button type='submit' class='button button-secondary'>Make new recovery codes</button>
        </form>
      </section>
      <section class='panel' aria-labelledby='disable-heading'>
        <h2 id='disable-heading'>Turn it off</h2>
        <form method='post' action='/account/two-factor/disable' class='form' novalidate>
          <CsrfField token={token} />
          <Field name='disablePassword' label='Your password' type='password' autocomplete='current-password' error={errors.disablePassword} maxlength={256} />
          <Field name='code' label='Code from your authenticator app' autocomplete='one-time-code' error={errors.code} maxlength={64} />
          <button type='submit' class='button button-secondary'>Turn off two-factor authentication</button>
        </form>
      </section>
    </Layout>
  )
}

export function TwoFactorLoginPage ({ ctx, error }: { ctx: PageContext, error?: string | undefined }): JSX.Element {
  return (
    <Layout title='Two-factor authentication' ctx={ctx}>
      <section class='auth-card'>
        <h1>Enter your code</h1>
        {error !== undefined && <p class='form-error' role='alert' safe>{error}</p>}
        <p>Open your authenticator app and enter the code it shows for Paws Rescue Center.</p>
        <form method='post' action='/login/two-factor' class='form' novalidate>
          <CsrfField token={ctx.csrfToken()} />
          <CodeField />
          <button type='submit' class='button'>Log in</button>
        </form>
        <p>Lost your phone? Enter one of your recovery codes instead. <a href='/login'>Start again</a></p>
      </section>
    </Layout>
  )
}
