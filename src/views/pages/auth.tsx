/**
 * Sign-up, log-in and log-out pages. A failed form comes back with its messages and the typed values,
 * never the passwords.
 */
import type { PageContext } from '../context.js'
import { Layout } from '../layout.js'
import { CsrfField } from '../components/csrf-field.js'
import { Field } from '../components/field.js'
import { PASSKEY_SCRIPT } from '../components/passkey-script.js'

export interface LoginPageProps {
  ctx: PageContext
  email: string
  remember: boolean
  next: string
  error?: string
}

export function LoginPage ({ ctx, email, remember, next, error }: LoginPageProps): JSX.Element {
  const token = ctx.csrfToken()
  return (
    <Layout title='Log in' ctx={ctx} scripts={[PASSKEY_SCRIPT]}>
      <section class='auth-card'>
        <h1>Log in</h1>
        {error !== undefined && <p class='form-error' role='alert' safe>{error}</p>}
        <form method='post' action={next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`} class='form'>
          <CsrfField token={token} />
          <Field name='email' label='Email' type='email' value={email} autocomplete='username webauthn' maxlength={254} />
          <Field name='password' label='Password' type='password' autocomplete='current-password' maxlength={256} />
          <div class='checkbox'>
            <input type='checkbox' id='field-remember' name='remember' value='on' checked={remember} />
            <label for='field-remember'>Remember me on this device</label>
          </div>
          <button type='submit' class='button'>Log in</button>
        </form>
        <div class='passkey-login' data-passkey-login data-csrf={token} data-next={next}>
          <button type='button' class='button button-secondary' hidden data-passkey-button>Log in with a passkey</button>
          <p class='hint' data-passkey-needs-script>Logging in with a passkey needs JavaScript.</p>
          <p role='status' data-passkey-status />
        </div>
        <p><a href='/password-reset'>Forgot your password?</a></p>
        <p>New here? <a href='/signup'>Create an account</a>.</p>
      </section>
    </Layout>
  )
}

export interface SignupValues { fullName: string, email: string }
export type SignupErrors = Partial<Record<'fullName' | 'email' | 'password' | 'confirmPassword', string>>

export function SignupPage ({ ctx, values, errors }: { ctx: PageContext, values: SignupValues, errors: SignupErrors }): JSX.Element {
  const hasErrors = Object.keys(errors).length > 0
  return (
    <Layout title='Sign up' ctx={ctx}>
      <section class='auth-card'>
        <h1>Create your account</h1>
        {hasErrors && <p class='form-error' role='alert'>Please correct the fields marked below.</p>}
        <form method='post' action='/signup' class='form' novalidate>
          <CsrfField token={ctx.csrfToken()} />
          <Field name='fullName' label='Full name' value={values.fullName} error={errors.fullName} autocomplete='name' maxlength={100} />
          <Field name='email' label='Email' type='email' value={values.email} error={errors.email} autocomplete='email' maxlength={254} />
          <Field name='password' label='Password' type='password' hint='At least 8 characters. Avoid common passwords.' error={errors.password} autocomplete='new-password' minlength={8} maxlength={256} />
          <Field name='confirmPassword' label='Confirm password' type='password' error={errors.confirmPassword} autocomplete='new-password' maxlength={256} />
          <button type='submit' class='button'>Sign up</button>
        </form>
        <p>Already have an account? <a href='/login'>Log in</a>.</p>
      </section>
    </Layout>
  )
}

export function LogoutPage ({ ctx }: { ctx: PageContext }): JSX.Element {
  return (
    <Layout title='Log out' ctx={ctx}>
      <section class='auth-card'>
        <h1>Log out</h1>
        {ctx.user === null
          ? <p>You are not logged in. <a href='/login'>Log in</a></p>
          : (
            <>
              <p>Do you want to log out of Paws Rescue Center on this device?</p>
              <form method='post' action='/logout' class='form'>
                <CsrfField token={ctx.csrfToken()} />
                <button type='submit' class='button'>Log out</button>
              </form>
            </>
            )}
      </section>
    </Layout>
  )
}
