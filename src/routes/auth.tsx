/**
 * Sign up, log in and log out: the original brief. Wrong credentials get one message whether or not the
 * email is known (and the same argon2 cost); success always starts a new session with a new token.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { safeNextPath } from '../auth/safe-redirect.js'
import { enqueueConfirmation, resendConfirmation } from '../auth/email-verification.js'
import { isUniqueViolation } from '../db/connect.js'
import { recordEvent } from '../db/queries/events.js'
import { findUserByEmail, insertUser, updatePasswordHash } from '../db/queries/users.js'
import { setFlash } from '../http/flash.js'
import { asRecord, checkbox, confirms, echo, emailField, existingPasswordField, newPasswordField, parseForm, text } from '../http/forms.js'
import { requireAnonymous } from '../http/guards.js'
import { pageContext, render } from '../http/render.js'
import { requestInfo } from '../http/request-info.js'
import { clearSessionCookie, startSession } from '../http/session.js'
import { cookieOptions } from '../http/cookies.js'
import { PENDING_LOGIN_TTL_MS, startPendingLogin } from '../auth/two-factor.js'
import { TWO_FACTOR_LOGIN_PATH } from './two-factor.js'
import { throttledError } from '../http/throttled.js'
import type { Services } from '../services.js'
import { LoginPage, LogoutPage, type SignupErrors, SignupPage } from '../views/pages/auth.js'
import { CheckEmailPage } from '../views/pages/verification.js'
import { EMAIL_TAKEN } from '../auth/email-verification.js'

export const WRONG_CREDENTIALS = 'Wrong credentials. Please try again.'
export { EMAIL_TAKEN } from '../auth/email-verification.js'
export const ACCOUNT_SUSPENDED = 'This account is suspended. Please contact the rescue team.'
export const CONFIRM_EMAIL_FIRST = 'Please confirm your email address first. We have sent you a new link.'
/** Home, marked so that it shows "You have been logged out." once (see the logout route). */
export const LOGGED_OUT_HOME = '/?logged-out'

const loginSchema = z.object({
  email: text('Email').max(1000).transform((e) => e.trim().toLowerCase()),
  password: existingPasswordField,
  remember: checkbox
})

const signupSchema = z.object({
  fullName: text('Full name').trim()
    .min(1, { error: 'Enter your name.' })
    .max(100, { error: 'Use at most 100 characters.' })
    .regex(/^[^\p{Cc}\p{Cf}]*$/u, { error: 'Remove invisible or control characters.' }),
  email: emailField,
  password: newPasswordField,
  confirmPassword: text('Password confirmation')
}).superRefine(confirms('password'))

type Query = { Querystring: { next?: string } }

export async function authRoutes (app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { db, hasher, sessions, clock, throttle, outbox, config } = services

  app.get<Query>('/login', { preHandler: requireAnonymous }, async (request, reply) =>
    render(reply, <LoginPage ctx={pageContext(request, reply, services)} email='' remember={false} next={safeNextPath(request.query.next)} />))

  app.post<Query>('/login', { preHandler: requireAnonymous }, async (request, reply) => {
    const next = safeNextPath(request.query.next)
    const form = parseForm(loginSchema, request.body)
    if (!form.ok) {
      return render(reply, <LoginPage ctx={pageContext(request, reply, services)} email={echo(form.raw, 'email')} remember={false} next={next} error={WRONG_CREDENTIALS} />, 400)
    }
    const { email, password, remember } = form.data
    const info = requestInfo(request)
    const verdict = await throttle.checkLogin(email, info.ip)
    const user = await findUserByEmail(db.kysely, email)
    if (!verdict.allowed) {
      request.log.warn({ reason: verdict.reason, userId: user?.id }, 'login refused by throttle')
      services.metrics.loginOutcome('throttled')
      if (user !== undefined) await recordEvent(db.kysely, user.id, 'login_throttled', { ...info, now: clock() })
      throw throttledError(verdict, 'log in')
    }
    const ok = await hasher.verify(user?.password_hash ?? null, password)
    if (!ok || user === undefined) {
      await throttle.loginFailed(email, info.ip)
      services.metrics.loginOutcome('wrong_credentials')
      request.log.info({ userId: user?.id }, 'login failed')
      if (user !== undefined) await recordEvent(db.kysely, user.id, 'login_failed', { ...info, now: clock() })
      return render(reply, <LoginPage ctx={pageContext(request, reply, services)} email={email} remember={remember} next={next} error={WRONG_CREDENTIALS} />, 401)
    }
    if (user.suspended_at !== null) {
      // The password was right, but the team has suspended the account: no session, and the attempt is on the record.
      await recordEvent(db.kysely, user.id, 'login_suspended', { ...info, now: clock() })
      request.log.info({ userId: user.id }, 'login refused: account suspended')
      return render(reply, <LoginPage ctx={pageContext(request, reply, services)} email={email} remember={remember} next={next} error={ACCOUNT_SUSPENDED} />, 403)
    }
    if (hasher.needsRehash(user.password_hash)) {
      await updatePasswordHash(db.kysely, user.id, await hasher.hash(password))
      request.log.info({ userId: user.id }, 'password hash upgraded to the current parameters')
    }
    if (config.recovery.requireEmailVerification && user.email_verified_at === null) {
      // The password was right, but the address is unproven: a new link (within the hourly cap), no session.
      await throttle.loginSucceeded(email)
      await resendConfirmation(services, user.id)
      request.log.info({ userId: user.id }, 'login refused: email address not confirmed')
      return render(reply, <LoginPage ctx={pageContext(request, reply, services)} email={email} remember={remember} next={next} error={CONFIRM_EMAIL_FIRST} />, 403)
    }
    if (user.two_factor_enabled_at !== null) {
      // The password was right; the session waits for the second factor, and so does the throttle's reset.
      const token = await startPendingLogin(services, user.id, next, remember)
      reply.setCookie(services.cookies.pendingLogin, token, cookieOptions(config.session.secureCookie, PENDING_LOGIN_TTL_MS))
      request.log.info({ userId: user.id }, 'password right: waiting for the second factor')
      services.metrics.loginOutcome('second_factor')
      return await reply.redirect(TWO_FACTOR_LOGIN_PATH, 303)
    }
    await throttle.loginSucceeded(email)
    await startSession(request, reply, services, user.id, remember)
    await recordEvent(db.kysely, user.id, 'login', { ...info, now: clock() })
    services.metrics.loginOutcome('success')
    request.log.info({ userId: user.id, remember }, 'login succeeded')
    setFlash(reply, services, 'logged-in')
    return await reply.redirect(next, 303)
  })

  app.get('/signup', { preHandler: requireAnonymous }, async (request, reply) =>
    render(reply, <SignupPage ctx={pageContext(request, reply, services)} values={{ fullName: '', email: '' }} errors={{}} />))

  app.post('/signup', { preHandler: requireAnonymous }, async (request, reply) => {
    const raw = asRecord(request.body)
    const typed = { fullName: echo(raw, 'fullName'), email: echo(raw, 'email') }
    const showForm = (errors: SignupErrors) =>
      render(reply, <SignupPage ctx={pageContext(request, reply, services)} values={typed} errors={errors} />, 400)
    const form = parseForm(signupSchema, raw)
    if (!form.ok) return showForm(form.errors)
    const { fullName, email, password } = form.data
    if (await findUserByEmail(db.kysely, email) !== undefined) return showForm({ email: EMAIL_TAKEN })
    const info = requestInfo(request)
    const verdict = await throttle.takeSignup(info.ip)
    if (!verdict.allowed) {
      request.log.warn({ reason: verdict.reason }, 'sign-up refused by throttle')
      throw throttledError(verdict, 'sign up')
    }
    const passwordHash = await hasher.hash(password)
    let userId: number
    try {
      // The account, its confirmation link and the email carrying it exist together or not at all.
      userId = await db.kysely.transaction().execute(async (trx) => {
        const now = clock()
        const user = await insertUser(trx, { email, full_name: fullName, password_hash: passwordHash, role: 'adopter', created_at: now })
        await enqueueConfirmation(services, trx, user, now)
        await recordEvent(trx, user.id, 'signup', { ...info, now })
        return user.id
      })
    } catch (error) {
      if (isUniqueViolation(error)) return showForm({ email: EMAIL_TAKEN })
      throw error
    }
    outbox.kick()
    await throttle.takeVerificationEmail(userId)
    if (config.recovery.requireEmailVerification) {
      request.log.info({ userId }, 'account created: waiting for the address to be confirmed')
      return render(reply, <CheckEmailPage ctx={pageContext(request, reply, services)} email={email} />)
    }
    await startSession(request, reply, services, userId, false)
    request.log.info({ userId }, 'account created')
    setFlash(reply, services, 'signed-up')
    return await reply.redirect('/', 303)
  })

  app.get('/logout', async (request, reply) =>
    render(reply, <LogoutPage ctx={pageContext(request, reply, services)} />))

  app.post('/logout', async (request, reply) => {
    if (request.session !== null && request.user !== null) {
      await sessions.destroy(request.session.id)
      await recordEvent(db.kysely, request.user.id, 'logout', { ...requestInfo(request), now: clock() })
      request.log.info({ userId: request.user.id }, 'logged out')
    }
    clearSessionCookie(reply, services)
    // Clear-Site-Data also wipes any cookie this response sets, so the one-time message cannot ride in a
    // cookie here: home takes the marker from the address, sets the message and drops the marker.
    reply.header('clear-site-data', '"cookies"')
    return await reply.redirect(LOGGED_OUT_HOME, 303)
  })
}
