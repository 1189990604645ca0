/**
 * Passkeys over HTTP. The ceremonies are JSON endpoints called by the static script (public/js/passkeys.js):
 * they alone accept JSON bodies (64 KiB at most, like forms; bad JSON is a 400), answer errors as JSON, and
 * take the form token from the `x-csrf-token` header. A challenge's token travels in an HttpOnly cookie.
 * Renaming and removing are plain forms on the account page. Nothing sent or stored for a ceremony (challenge,
 * key, client data, response) is logged: only who, which passkey and the outcome.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import {
  finishLogin, finishRegistration, PASSKEY_NAME_MAX_CHARS, removeAccountPasskey, renameAccountPasskey, startLogin, startRegistration,
  WEBAUTHN_CHALLENGE_TTL_MS
} from '../auth/passkeys.js'
import { safeNextPath } from '../auth/safe-redirect.js'
import { recordEvent } from '../db/queries/events.js'
import { findUserById } from '../db/queries/users.js'
import { cookieOptions } from '../http/cookies.js'
import { HttpError } from '../http/errors.js'
import { setFlash } from '../http/flash.js'
import { BODY_LIMIT_BYTES, parseForm, text } from '../http/forms.js'
import { requireUser } from '../http/guards.js'
import { requestInfo } from '../http/request-info.js'
import { startSession } from '../http/session.js'
import { throttledError } from '../http/throttled.js'
import type { Services } from '../services.js'
import { describeDevice } from '../views/format.js'
import { showAccount } from './account.js'
import { PASSKEY_REGISTER_OPTIONS_PATH, PASSKEY_REGISTER_VERIFY_PATH } from '../views/pages/account.js'

export const PASSKEY_PATHS = {
  registerOptions: PASSKEY_REGISTER_OPTIONS_PATH,
  registerVerify: PASSKEY_REGISTER_VERIFY_PATH,
  loginOptions: '/passkeys/login/options',
  loginVerify: '/passkeys/login/verify'
} as const

export const PASSKEY_LOGIN_FAILED = 'That passkey did not log you in. Please try again, or log in with your password.'
export const PASSKEY_CHALLENGE_EXPIRED = 'That took too long, or came from another window. Please try again.'
const PASSKEY_NOT_ADDED = 'The passkey could not be added. Please try again.'
const PASSKEY_TAKEN = 'That passkey is already registered.'
const NOT_SIGNED_IN = 'Please log in again.'
const ALREADY_SIGNED_IN = 'You are already logged in.'

const JSON_CLIENT_ERRORS: Record<number, string> = {
  400: 'The request could not be read.',
  413: 'What you sent is too large.',
  415: 'Send JSON.'
}

const base64url = z.string().max(BODY_LIMIT_BYTES).regex(/^[A-Za-z0-9_-]*$/)
const credentialFields = { id: base64url.min(1), rawId: base64url.min(1), type: z.literal('public-key'), clientExtensionResults: z.looseObject({}).optional() }

const registerSchema = z.object({
  response: z.looseObject({
    ...credentialFields,
    response: z.looseObject({ clientDataJSON: base64url, attestationObject: base64url, transports: z.array(z.string().max(32)).max(10).optional() })
  })
})

const loginSchema = z.object({
  response: z.looseObject({
    ...credentialFields,
    response: z.looseObject({ clientDataJSON: base64url, authenticatorData: base64url, signature: base64url, userHandle: base64url.optional() })
  }),
  next: z.string().max(2048).optional(),
  remember: z.boolean().optional()
})

const idParam = z.object({ id: z.string().regex(/^[1-9]\d{0,11}$/).transform(Number) })
const renameSchema = z.object({
  name: text('Name').trim()
    .min(1, { error: 'Enter a name for the passkey.' })
    .max(PASSKEY_NAME_MAX_CHARS, { error: `Use at most ${PASSKEY_NAME_MAX_CHARS} characters.` })
    .regex(/^[^\p{Cc}\p{Cf}]*$/u, { error: 'Remove invisible or control characters.' })
})

function refuse (status: number, message: string, reason: string): HttpError {
  return new HttpError(status, 'Passkey', message, reason)
}

async function answer (reply: FastifyReply, status: number, body: object): Promise<FastifyReply> {
  return await reply.code(status).header('cache-control', 'no-store').send(body)
}

/** The JSON endpoints of the ceremonies, in their own context: the JSON parser and JSON errors apply to them only. */
async function ceremonyRoutes (app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { db, clock, config, cookies } = services
  const secure = config.session.secureCookie

  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, app.getDefaultJsonParser('error', 'error'))

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    if (error instanceof HttpError) {
      request.log.info({ status: error.statusCode, reason: error.reason }, 'request refused')
      reply.headers(error.headers)
      return answer(reply, error.statusCode, { error: error.publicMessage })
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500
    if (status >= 400 && status < 500) {
      request.log.info({ status, code: error.code }, 'client error')
      return answer(reply, status, { error: JSON_CLIENT_ERRORS[status] ?? JSON_CLIENT_ERRORS[400] })
    }
    request.log.error({ err: error }, 'unhandled error')
    return answer(reply, 500, { error: 'Sorry, something went wrong on our side. Please try again in a moment.' })
  })

  function signedIn (request: FastifyRequest): NonNullable<FastifyRequest['user']> {
    if (request.user === null) throw refuse(401, NOT_SIGNED_IN, 'passkey: not signed in')
    return request.user
  }

  function anonymous (request: FastifyRequest): void {
    if (request.user !== null) throw refuse(409, ALREADY_SIGNED_IN, 'passkey: already signed in')
  }

  function holdChallenge (reply: FastifyReply, token: string): void {
    reply.setCookie(cookies.webauthn, token, cookieOptions(secure, WEBAUTHN_CHALLENGE_TTL_MS))
  }

  function takeChallengeCookie (request: FastifyRequest, reply: FastifyReply): string | undefined {
    reply.clearCookie(cookies.webauthn, cookieOptions(secure))
    return request.cookies[cookies.webauthn]
  }

  app.post(PASSKEY_PATHS.registerOptions, async (request, reply) => {
    const user = signedIn(request)
    const stored = await findUserById(db.kysely, user.id)
    if (stored === undefined) throw refuse(401, NOT_SIGNED_IN, 'passkey: account gone')
    const { options, token } = await startRegistration(services, stored)
    holdChallenge(reply, token)
    return await answer(reply, 200, options)
  })

  app.post(PASSKEY_PATHS.registerVerify, async (request, reply) => {
    const user = signedIn(request)
    const token = takeChallengeCookie(request, reply)
    const body = registerSchema.safeParse(request.body)
    if (!body.success) throw refuse(400, PASSKEY_NOT_ADDED, 'passkey: unreadable registration')
    const info = requestInfo(request)
    const result = await finishRegistration(services, user.id, token, body.data.response as RegistrationResponseJSON, `Passkey on ${describeDevice(info.userAgent)}`, info)
    request.log.info({ userId: user.id, outcome: result.outcome, passkeyId: result.outcome === 'added' ? result.passkey.id : undefined }, 'passkey registration')
    switch (result.outcome) {
      case 'expired': throw refuse(400, PASSKEY_CHALLENGE_EXPIRED, 'passkey: no live registration challenge')
      case 'invalid': throw refuse(400, PASSKEY_NOT_ADDED, 'passkey: registration not verified')
      case 'taken': throw refuse(409, PASSKEY_TAKEN, 'passkey: credential registered already')
      case 'added':
        setFlash(reply, services, 'passkey-added')
        return await answer(reply, 201, { redirect: '/account' })
    }
  })

  app.post(PASSKEY_PATHS.loginOptions, async (request, reply) => {
    anonymous(request)
    const { options, token } = await startLogin(services)
    holdChallenge(reply, token)
    return await answer(reply, 200, options)
  })

  app.post(PASSKEY_PATHS.loginVerify, async (request, reply) => {
    anonymous(request)
    const token = takeChallengeCookie(request, reply)
    const body = loginSchema.safeParse(request.body)
    if (!body.success) throw refuse(400, PASSKEY_LOGIN_FAILED, 'passkey: unreadable assertion')
    const info = requestInfo(request)
    const result = await finishLogin(services, token, body.data.response as AuthenticationResponseJSON, info)
    const userId = 'user' in result ? result.user?.id : undefined
    switch (result.outcome) {
      case 'expired':
        throw refuse(400, PASSKEY_CHALLENGE_EXPIRED, 'passkey: no live login challenge')
      case 'throttled':
        request.log.warn({ reason: result.verdict.reason, userId }, 'login refused by throttle (passkey)')
        throw throttledError(result.verdict, 'log in')
      case 'unknown':
      case 'invalid':
        request.log.info({ userId, outcome: result.outcome }, 'login failed (passkey)')
        throw refuse(401, PASSKEY_LOGIN_FAILED, `passkey: ${result.outcome} credential`)
      case 'refused':
        request.log.info({ userId }, 'login refused: account may not log in (passkey)')
        throw refuse(403, PASSKEY_LOGIN_FAILED, 'passkey: account may not log in')
      case 'unconfirmed':
        request.log.info({ userId }, 'login refused: email address not confirmed (passkey)')
        throw refuse(403, 'Please confirm your email address first. We have sent you a new link.', 'passkey: address not confirmed')
      case 'ok': {
        const remember = body.data.remember === true
        const next = safeNextPath(body.data.next)
        await startSession(request, reply, services, result.user.id, remember)
        await recordEvent(db.kysely, result.user.id, 'login', { ...info, now: clock() })
        request.log.info({ userId: result.user.id, remember }, 'login succeeded (passkey)')
        setFlash(reply, services, 'logged-in')
        return await answer(reply, 200, { redirect: next })
      }
    }
  })
}

export async function passkeyRoutes (app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  await app.register(ceremonyRoutes, { services })

  app.post('/account/passkeys/:id/rename', { preHandler: requireUser }, async (request, reply) => {
    const user = request.user!
    const id = idParam.safeParse(request.params)
    const form = parseForm(renameSchema, request.body)
    if (!id.success) return await reply.redirect('/account', 303)
    if (!form.ok) return await showAccount(services, request, reply, { passkeyError: { id: id.data.id, message: form.errors.name ?? 'Enter a name for the passkey.' } }, 400)
    if (await renameAccountPasskey(services, user.id, id.data.id, form.data.name, requestInfo(request))) {
      request.log.info({ userId: user.id, passkeyId: id.data.id }, 'passkey renamed')
      setFlash(reply, services, 'passkey-renamed')
    }
    return await reply.redirect('/account', 303)
  })

  app.post('/account/passkeys/:id/remove', { preHandler: requireUser }, async (request, reply) => {
    const user = request.user!
    const id = idParam.safeParse(request.params)
    if (id.success && await removeAccountPasskey(services, user.id, id.data.id, requestInfo(request))) {
      request.log.info({ userId: user.id, passkeyId: id.data.id }, 'passkey removed')
      setFlash(reply, services, 'passkey-removed')
    }
    return await reply.redirect('/account', 303)
  })
}
