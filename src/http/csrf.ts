/**
 * Cross-site request forgery defence for every unsafe request. A form token bound to the visitor is
 * required: an HMAC of the session id when signed in (so it rotates at login), or of a random cookie for
 * visitors without a session (signed double-submit). Forms send it in the `_csrf` field; the passkey
 * script's JSON requests send the same token in the `x-csrf-token` header (a header a cross-site form
 * cannot set). Browsers' Origin and Sec-Fetch-Site headers, when sent, must say the request came from
 * this site. Tokens are made with the current key; during a key rotation a token made with the previous
 * key is still accepted (checked only when the current one fails).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hmac, looksLikeToken, newToken, safeEqual } from '../auth/tokens.js'
import type { Services } from '../services.js'
import { CSRF_FIELD } from '../views/components/csrf-field.js'
import { cookieOptions } from './cookies.js'
import { HttpError } from './errors.js'
import './types.js'

export const CSRF_FAILURE_MESSAGE = 'This form has expired or came from another site. Please try again.'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
export const CSRF_HEADER = 'x-csrf-token'

/** The token the request carries: the header when sent, otherwise the form field. */
function sentToken (request: FastifyRequest): unknown {
  const header = request.headers[CSRF_HEADER]
  if (header !== undefined) return header
  const body = request.body as Record<string, unknown> | null | undefined
  return typeof body === 'object' && body !== null ? body[CSRF_FIELD] : undefined
}

export const csrfPlugin = fp<{ services: Services }>(async (app, { services }) => {
  const { session: { secureCookie } } = services.config
  const { current: secretKey, previous: previousKeys } = services.keys
  const cookieName = services.cookies.csrf

  // A session read from the session cache is the same object on every request while it is kept, so its
  // token is computed once for it.
  const sessionTokens = new WeakMap<object, string>()

  /** The value this visitor's tokens are bound to, with its purpose. */
  function binding (request: FastifyRequest): [purpose: string, value: string] | null {
    if (request.session !== null) return ['csrf-session', request.session.id]
    const anonymous = request.cookies[cookieName]
    return looksLikeToken(anonymous) ? ['csrf-anonymous', anonymous] : null
  }

  function expectedToken (request: FastifyRequest): string | null {
    const session = request.session
    if (session !== null) {
      let token = sessionTokens.get(session)
      if (token === undefined) {
        token = hmac(secretKey, 'csrf-session', session.id)
        sessionTokens.set(session, token)
      }
      return token
    }
    const anonymous = request.cookies[cookieName]
    return looksLikeToken(anonymous) ? hmac(secretKey, 'csrf-anonymous', anonymous) : null
  }

  // A method shared by every reply (this is the reply), so a request that renders no form costs nothing.
  app.decorateReply('csrfToken', function (this: FastifyReply): string {
    const existing = expectedToken(this.request)
    if (existing !== null) return existing
    const anonymous = newToken()
    this.request.cookies[cookieName] = anonymous
    this.setCookie(cookieName, anonymous, cookieOptions(secureCookie))
    return hmac(secretKey, 'csrf-anonymous', anonymous)
  })

  function signedWithPrevious (request: FastifyRequest, sent: string): boolean {
    const bound = binding(request)
    return bound !== null && previousKeys.some((key) => safeEqual(sent, hmac(key, bound[0], bound[1])))
  }

  /** Why an unsafe request must be refused, or null when it carries this visitor's form token from this site. */
  function refusal (request: FastifyRequest): HttpError | null {
    const origin = request.headers.origin
    const fetchSite = request.headers['sec-fetch-site']
    // A page sent with Referrer-Policy: no-referrer (one a link in an email opens) makes the browser send
    // `Origin: null` with its own form; Sec-Fetch-Site, which no page can forge, still says where it came from.
    const hiddenOrigin = origin === 'null' && fetchSite === 'same-origin'
    if (origin !== undefined && !hiddenOrigin && origin !== `${request.protocol}://${request.host}`) {
      return new HttpError(403, 'Form expired', CSRF_FAILURE_MESSAGE, 'csrf: foreign origin')
    }
    if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
      return new HttpError(403, 'Form expired', CSRF_FAILURE_MESSAGE, 'csrf: cross-site fetch')
    }
    const sent = sentToken(request)
    const expected = expectedToken(request)
    if (typeof sent !== 'string' || expected === null || !(safeEqual(sent, expected) || signedWithPrevious(request, sent))) {
      return new HttpError(403, 'Form expired', CSRF_FAILURE_MESSAGE, 'csrf: missing or wrong token')
    }
    return null
  }

  app.addHook('preHandler', (request: FastifyRequest, _reply, done) => {
    const error = SAFE_METHODS.has(request.method) ? null : refusal(request)
    if (error === null) done()
    else done(error)
  })
}, { name: 'paws-csrf', dependencies: ['paws-session'] })
