/**
 * Confirming an address over HTTP: the page a link opens, the POST that confirms (signed in or not: the
 * link may be opened on a phone), and, on the account page, "send a new link" and the change of address.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { VERIFY_EMAIL_PATH } from '../auth/account-mail.js'
import { confirmEmail, EMAIL_TAKEN, findConfirmationLink, requestEmailChange, resendConfirmation } from '../auth/email-verification.js'
import { setFlash } from '../http/flash.js'
import { emailField, existingPasswordField, parseForm } from '../http/forms.js'
import { requireUser } from '../http/guards.js'
import { pageContext, render } from '../http/render.js'
import { requestInfo } from '../http/request-info.js'
import { throttledError } from '../http/throttled.js'
import type { Services } from '../services.js'
import { ErrorPage } from '../views/pages/error.js'
import { LinkInvalidPage } from '../views/pages/recovery.js'
import { ConfirmEmailPage } from '../views/pages/verification.js'
import { showAccount } from './account.js'

type TokenParams = { Params: { token: string } }

const emailChangeSchema = z.object({ newEmail: emailField, password: existingPasswordField })

export async function verificationRoutes (app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  function linkInvalid (request: FastifyRequest, reply: FastifyReply) {
    const again = request.user === null ? { href: '/login', label: 'Log in to ask for a new link' } : { href: '/account', label: 'Ask for a new link on your account page' }
    return render(reply, <LinkInvalidPage ctx={pageContext(request, reply, services)} again={again} />, 404)
  }

  app.get<TokenParams>(`${VERIFY_EMAIL_PATH}/:token`, async (request, reply) => {
    reply.header('referrer-policy', 'no-referrer')
    const found = await findConfirmationLink(services, request.params.token)
    if (found === undefined) return linkInvalid(request, reply)
    return render(reply, <ConfirmEmailPage ctx={pageContext(request, reply, services)} action={request.url} email={found.link.email} change={found.change} />)
  })

  app.post<TokenParams>(`${VERIFY_EMAIL_PATH}/:token`, async (request, reply) => {
    reply.header('referrer-policy', 'no-referrer')
    const keep = request.session === null ? null : request.session.id
    const outcome = await confirmEmail(services, request.params.token, requestInfo(request), keep)
    if (!outcome.ok) {
      if (outcome.reason === 'invalid') return linkInvalid(request, reply)
      return render(reply, <ErrorPage ctx={pageContext(request, reply, services)} title='Address in use' message={EMAIL_TAKEN} />, 409)
    }
    request.log.info({ userId: outcome.userId, changed: outcome.changed }, 'email address confirmed')
    setFlash(reply, services, 'email-confirmed')
    return await reply.redirect(request.user?.id === outcome.userId ? '/account' : '/login', 303)
  })

  app.post('/account/verify-email', { preHandler: requireUser }, async (request, reply) => {
    const verdict = await resendConfirmation(services, request.user!.id)
    if (verdict !== 'confirmed' && !verdict.allowed) {
      request.log.warn({ reason: verdict.reason, userId: request.user!.id }, 'confirmation link refused by throttle')
      throw throttledError(verdict, 'send a link')
    }
    setFlash(reply, services, verdict === 'confirmed' ? 'email-confirmed' : 'verification-sent')
    return await reply.redirect('/account', 303)
  })

  app.post('/account/email', { preHandler: requireUser }, async (request, reply) => {
    const form = parseForm(emailChangeSchema, request.body)
    if (!form.ok) return await showAccount(services, request, reply, { emailErrors: form.errors }, 400)
    const userId = request.user!.id
    const outcome = await requestEmailChange(services, userId, form.data.newEmail, form.data.password, requestInfo(request))
    if (!outcome.ok) {
      if ('throttled' in outcome) throw throttledError(outcome.throttled, 'send a link')
      return await showAccount(services, request, reply, { emailErrors: { [outcome.field]: outcome.message }, newEmail: form.data.newEmail }, 400)
    }
    request.log.info({ userId }, 'email change asked for: link sent to the new address')
    setFlash(reply, services, 'email-change-sent')
    return await reply.redirect('/account', 303)
  })
}
