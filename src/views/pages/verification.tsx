/** Confirming an address: the page a link opens (a button, since opening a link must change nothing) and "check your email". */
import type { PageContext } from '../context.js'
import { Layout } from '../layout.js'
import { CsrfField } from '../components/csrf-field.js'

export function ConfirmEmailPage ({ ctx, action, email, change }: { ctx: PageContext, action: string, email: string, change: boolean }): JSX.Element {
  return (
    <Layout title='Confirm your email address' ctx={ctx}>
      <section class='auth-card'>
        <h1>Confirm your email address</h1>
        <p>{change ? 'Use ' : 'Confirm that '}<strong safe>{email}</strong>{change ? ' as the email address of your account?' : ' is your email address.'}</p>
        <form method='post' action={action} class='form'>
          <CsrfField token={ctx.csrfToken()} />
          <button type='submit' class='button'>Confirm</button>
        </form>
      </section>
    </Layout>
  )
}

export function CheckEmailPage ({ ctx, email }: { ctx: PageContext, email: string }): JSX.Element {
  return (
    <Layout title='Check your email' ctx={ctx}>
      <section class='auth-card'>
        <h1>Check your email</h1>
        <p role='status'>We have sent a link to <strong safe>{email}</strong>. Follow it to confirm your address, then log in.</p>
        <p>Nothing arrived? Check your spam folder. Logging in sends a new link.</p>
      </section>
    </Layout>
  )
}
