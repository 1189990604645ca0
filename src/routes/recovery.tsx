/**
 * Password reset over HTTP. Asking for a link answers the same page, status and text whatever the
 * address, and the work for a known address (the link, its email) runs after the answer is sent, so the
 * time taken tells nothing either. Pages opened from a link send no Referer, so the token in their
 * address cannot leak to another site.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { PASSWORD_RESET_PATH } from '../auth/account-mail.js'
import { findResetLink, requestPasswordReset, resetPassword } from '../auth/password-reset.js'
import { setFlash } from '../http/flash.js'
import { confirms, emailField, echo, newPasswordField, parseForm, text } from '../http/forms.js'
import { pageContext, render } from '../http/render.js'
import { requestInfo } from '../http/request-info.js'
import { throttledError } from '../http/throttled.js'
import type { Services } from '../services.js'
import { LinkInvalidPage, NewPasswordPage, type NewPasswordErrors, ResetRequestedPage, ResetRequestPage } from '../views/pages/recovery.js'

const requestSchema = z.object({ email: emailField })
const newPasswordSchema = z.object({
  password: newPasswordField,
  confirmPassword: text('Password confirmation')
}).superRefine(confirms('password'))

type TokenParams = { Params: { token: string } }

/** Work to run once the answer has gone out, keyed by its request. */
const afterAnswer = new WeakMap<FastifyRequest, () => Promise<unknown>>()

export async function recoveryRoutes (app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { throttle, outbox } = services

  function linkInvalid (request: FastifyRequest, reply: FastifyReply) {
    return render(reply, <LinkInvalidPage ctx={pageContext(request, reply, services)} again={{ href: PASSWORD_RESET_PATH, label: 'Ask for a new link' }} />, 404)
  }

  app.get(PASSWORD_RESET_PATH, async (request, reply) =>
    render(reply, <ResetRequestPage ctx={pageContext(request, reply, services)} email='' />))

  app.post(PASSWORD_RESET_PATH, {
    onResponse: async (request) => {
      const work = afterAnswer.get(request)
      if (work !== undefined) outbox.track(work())
    }
  }, async (request, reply) => {
    const form = parseForm(requestSchema, request.body)
    if (!form.ok) {
      return render(reply, <ResetRequestPage ctx={pageContext(request, reply, services)} email={echo(form.raw, 'email')} error={form.errors.email} />, 400)
    }
    const who = requestInfo(request)
    const verdict = await throttle.takeResetRequest(who.ip)
    if (!verdict.allowed) {
      request.log.warn({ reason: verdict.reason }, 'password reset refused by throttle')
      throw throttledError(verdict, 'reset a password')
    }
    const { email } = form.data
    const log = request.log
    afterAnswer.set(request, async () => {
      const outcome = await requestPasswordReset(services, email, who)
      log.info({ outcome }, 'password reset requested')
    })
    return render(reply, <ResetRequestedPage ctx={pageContext(request, reply, services)} />)
  })

  app.get<TokenParams>(`${PASSWORD_RESET_PATH}/:token`, async (request, reply) => {
    reply.header('referrer-policy', 'no-referrer')
    if (await findResetLink(services, request.params.token) === undefined) return linkInvalid(request, reply)
    return render(reply, <NewPasswordPage ctx={pageContext(request, reply, services)} action={request.url} errors={{}} />)
  })

  app.post<TokenParams>(`${PASSWORD_RESET_PATH}/:token`, async (request, reply) => {
    reply.header('referrer-policy', 'no-referrer')
    const { token } = request.params
    if (await findResetLink(services, token) === undefined) return linkInvalid(request, reply)
    const form = parseForm(newPasswordSchema, request.body)
    if (!form.ok) {
      const errors: NewPasswordErrors = form.errors
      return render(reply, <NewPasswordPage ctx={pageContext(request, reply, services)} action={request.url} errors={errors} />, 400)
    }
    const done = await resetPassword(services, token, form.data.password, requestInfo(request))
    if (done === null) return linkInvalid(request, reply)
    request.log.info({ userId: done.userId }, 'password reset: every session ended')
    setFlash(reply, services, 'password-reset')
    return await reply.redirect('/login', 303)
  })
}
