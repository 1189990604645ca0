/**
 * Getting back in: asking for a reset link, the answer that is the same whether or not the address has
 * an account, the new-password form a link opens, and the page for a link that no longer works.
 */
import type { PageContext } from '../context.js'
import { Layout } from '../layout.js'
import { CsrfField } from '../components/csrf-field.js'
import { Field } from '../components/field.js'

export const RESET_REQUESTED = 'If an account uses that email, a link to reset its password is on its way.'
export const LINK_INVALID = 'This link is invalid or has expired.'

export function ResetRequestPage ({ ctx, email, error }: { ctx: PageContext, email: string, error?: string | undefined }): JSX.Element {
  return (
    <Layout title='Reset your password' ctx={ctx}>
      <section class='auth-card'>
        <h1>Reset your password</h1>
        <p>Enter the email address of your account. We will send you a link to choose a new password.</p>
        <form method='post' action='/password-reset' class='form' novalidate>
          <CsrfField token={ctx.csrfToken()} />
          <Field name='email' label='Email' type='email' value={email} error={error} autocomplete='email' maxlength={254} />
          <button type='submit' class='button'>Send the link</button>
        </form>
        <p>Remembered it? <a href='/login'>Log in</a>.</p>
      </section>
    </Layout>
  )
}

export function ResetRequestedPage ({ ctx }: { ctx: PageContext }): JSX.Element {
  return (
    <Layout title='Check your email' ctx={ctx}>
      <section class='auth-card'>
        <h1>Check your email</h1>
        <p role='status'>{RESET_REQUESTED}</p>
        <p>The link works for a limited time and only once. Nothing arrived? Check your spam folder, or <a href='/password-reset'>ask again</a>.</p>
      </section>
    </Layout>
  )
}

export type NewPasswordErrors = Partial<Record<'password' | 'confirmPassword', string>>

export function NewPasswordPage ({ ctx, action, errors }: { ctx: PageContext, action: string, errors: NewPasswordErrors }): JSX.Element {
  return (
    <Layout title='Choose a new password' ctx={ctx}>
      <section class='auth-card'>
        <h1>Choose a new password</h1>
        {Object.keys(errors).length > 0 && <p class='form-error' role='alert'>Please correct the fields marked below.</p>}
        <form method='post' action={action} class='form' novalidate>
          <CsrfField token={ctx.csrfToken()} />
          <Field name='password' label='New password' type='password' hint='At least 8 characters. Avoid common passwords.' error={errors.password} autocomplete='new-password' minlength={8} maxlength={256} />
          <Field name='confirmPassword' label='Confirm new password' type='password' error={errors.confirmPassword} autocomplete='new-password' maxlength={256} />
          <button type='submit' class='button'>Set the new password</button>
        </form>
        <p>Every session of your account is logged out when the password changes.</p>
      </section>
    </Layout>
  )
}

export function LinkInvalidPage ({ ctx, again }: { ctx: PageContext, again: { href: string, label: string } }): JSX.Element {
  return (
    <Layout title='Link expired' ctx={ctx}>
      <section class='auth-card'>
        <h1>Link expired</h1>
        <p>{LINK_INVALID}</p>
        <p><a href={again.href} safe>{again.label}</a></p>
      </section>
    </Layout>
  )
}
