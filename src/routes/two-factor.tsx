/**
 * Two-factor authentication over HTTP: setting it up and managing it from the account, and the code step
 * of a login. The code step has the login's throttle, events and log lines; a right code starts the
 * session exactly as a password login does. No code or secret is logged.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { WRONG_CURRENT_PASSWORD } from '../auth/email-verification.js'
import {
  completeSecondFactor, disableTwoFactor, enableTwoFactor, findPendingLogin, recoveryCodesLeft, regenerateRecoveryCodes, setupSecret
} from '../auth/two-factor.js'
import { recordEvent } from '../db/queries/events.js'
import { findUserById } from '../db/queries/users.js'
import { cookieOptions } from '../http/cookies.js'
import { setFlash } from '../http/flash.js'
import { existingPasswordField, parseForm, text } from '../http/forms.js'
import { requireAnonymous, requireUser } from '../http/guards.js'
import { pageContext, render } from '../http/render.js'
import { requestInfo } from '../http/request-info.js'
import { startSession } from '../http/session.js'
import { throttledError } from '../http/throttled.js'
import type { Services } from '../services.js'
import { type ManageErrors, RecoveryCodesPage, TwoFactorLoginPage, TwoFactorManagePage, TwoFactorSetupPage, WRONG_CODE } from '../views/pages/two-factor.js'

export const TWO_FACTOR_LOGIN_PATH = '/login/two-factor'
export const TWO_FACTOR_ACCOUNT_PATH = '/account/two-factor'

const codeField = text('Code').max(64, { error: WRONG_CODE })
const codeSchema = z.object({ code: codeField })
const disableSchema = z.object({ disablePassword: existingPasswordField, code: codeField })
const regenerateSchema = z.object({ password: existingPasswordField })

export async function twoFactorRoutes (app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { db, throttle, clock, config, cookies } = services

  async function showAccountPage (request: FastifyRequest, reply: FastifyReply, errors: ManageErrors = {}, status = 200, setupError?: string) {
    const user = await findUserById(db.kysely, request.user!.id)
    if (user === undefined) return await reply.redirect('/login', 303)
    if (user.two_factor_enabled_at !== null) {
      return render(reply, <TwoFactorManagePage ctx={pageContext(request, reply, services)} codesLeft={await recoveryCodesLeft(services, user.id)} errors={errors} />, status)
    }
    const setup = await setupSecret(services, user)
    const required = config.twoFactor.requiredForStaff && user.role === 'staff'
    return render(reply, <TwoFactorSetupPage ctx={pageContext(request, reply, services)} secret={setup.secretBase32} uri={setup.uri} safeQrSvg={setup.qrSvg} error={setupError} required={required} />, status)
  }

  app.get(TWO_FACTOR_ACCOUNT_PATH, { preHandler: requireUser }, async (request, reply) => await showAccountPage(request, reply))

  app.post(`${TWO_FACTOR_ACCOUNT_PATH}/enable`, { preHandler: requireUser }, async (request, reply) => {
    const form = parseForm(codeSchema, request.body)
    const codes = form.ok ? await enableTwoFactor(services, request.user!.id, form.data.code, requestInfo(request)) : null
    if (codes === null) return await showAccountPage(request, reply, {}, 400, WRONG_CODE)
    request.log.info({ userId: request.user!.id }, 'two-factor authentication turned on')
    return render(reply, <RecoveryCodesPage ctx={pageContext(request, reply, services)} codes={codes} first />)
  })

  app.post(`${TWO_FACTOR_ACCOUNT_PATH}/disable`, { preHandler: requireUser }, async (request, reply) => {
    const form = parseForm(disableSchema, request.body)
    if (!form.ok) return await showAccountPage(request, reply, { disablePassword: form.errors.disablePassword, code: form.errors.code }, 400)
    const outcome = await disableTwoFactor(services, request.user!.id, form.data.disablePassword, form.data.code, requestInfo(request))
    if (outcome === 'wrong-password') return await showAccountPage(request, reply, { disablePassword: WRONG_CURRENT_PASSWORD }, 400)
    if (outcome === 'wrong-code') return await showAccountPage(request, reply, { code: WRONG_CODE }, 400)
    if (outcome === 'done') request.log.info({ userId: request.user!.id }, 'two-factor authentication turned off')
    setFlash(reply, services, 'two-factor-disabled')
    return await reply.redirect('/account', 303)
  })

  app.post(`${TWO_FACTOR_ACCOUNT_PATH}/recovery-codes`, { preHandler: requireUser }, async (request, reply) => {
    const form = parseForm(regenerateSchema, request.body)
    const codes = form.ok ? await regenerateRecoveryCodes(services, request.user!.id, form.data.password, requestInfo(request)) : 'wrong-password'
    if (codes === 'not-enabled') return await reply.redirect(TWO_FACTOR_ACCOUNT_PATH, 303)
    if (codes === 'wrong-password') return await showAccountPage(request, reply, { password: WRONG_CURRENT_PASSWORD }, 400)
    request.log.info({ userId: request.user!.id }, 'new recovery codes made')
    return render(reply, <RecoveryCodesPage ctx={pageContext(request, reply, services)} codes={codes} first={false} />)
  })

  // ---------------------------------------------------------------------------------------------------
  // The code step of a login

  function endPendingLogin (reply: FastifyReply, flash: 'login-expired' | 'two-factor-ended') {
    reply.clearCookie(cookies.pendingLogin, cookieOptions(config.session.secureCookie))
    setFlash(reply, services, flash)
    return reply.redirect('/login', 303)
  }

  app.get(TWO_FACTOR_LOGIN_PATH, { preHandler: requireAnonymous }, async (request, reply) => {
    const pending = await findPendingLogin(services, request.cookies[cookies.pendingLogin])
    if (pending === undefined) return await endPendingLogin(reply, 'login-expired')
    return render(reply, <TwoFactorLoginPage ctx={pageContext(request, reply, services)} />)
  })

  app.post(TWO_FACTOR_LOGIN_PATH, { preHandler: requireAnonymous }, async (request, reply) => {
    const pending = await findPendingLogin(services, request.cookies[cookies.pendingLogin])
    const user = pending === undefined ? undefined : await findUserById(db.kysely, pending.user_id)
    if (pending === undefined || user === undefined) return await endPendingLogin(reply, 'login-expired')
    const info = requestInfo(request)
    const verdict = await throttle.checkLogin(user.email, info.ip)
    if (!verdict.allowed) {
      request.log.warn({ reason: verdict.reason, userId: user.id }, 'login refused by throttle (second factor)')
      await recordEvent(db.kysely, user.id, 'login_throttled', { ...info, now: clock() })
      services.metrics.loginOutcome('throttled')
      throw throttledError(verdict, 'log in')
    }
    const form = parseForm(codeSchema, request.body)
    const result = await completeSecondFactor(services, pending, form.ok ? form.data.code : '', info)
    switch (result.outcome) {
      case 'expired':
        return await endPendingLogin(reply, 'login-expired')
      case 'wrong':
      case 'ended':
        await throttle.loginFailed(user.email, info.ip)
        services.metrics.loginOutcome('wrong_credentials')
        request.log.info({ userId: user.id, ended: result.outcome === 'ended' }, 'login failed (second factor)')
        if (result.outcome === 'ended') return await endPendingLogin(reply, 'two-factor-ended')
        return render(reply, <TwoFactorLoginPage ctx={pageContext(request, reply, services)} error={WRONG_CODE} />, 401)
      case 'ok':
        await throttle.loginSucceeded(user.email)
        services.metrics.loginOutcome('success')
        reply.clearCookie(cookies.pendingLogin, cookieOptions(config.session.secureCookie))
        await startSession(request, reply, services, user.id, result.remember)
        await recordEvent(db.kysely, user.id, 'login', { ...info, now: clock() })
        request.log.info({ userId: user.id, remember: result.remember, recoveryCode: result.usedRecoveryCode }, 'login succeeded (second factor)')
        setFlash(reply, services, 'logged-in')
        return await reply.redirect(result.next, 303)
    }
  })
}
