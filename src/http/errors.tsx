/**
 * Every failure becomes an HTML page with a status that tells the truth and a message a person can act
 * on. Client mistakes are 4xx with no change made; anything unexpected is a 500 whose details go to the
 * log only.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { HasherBusyError } from '../auth/passwords.js'
import type { Services } from '../services.js'
import { ErrorPage } from '../views/pages/error.js'
import { pageContext, render } from './render.js'

export class HttpError extends Error {
  constructor (
    readonly statusCode: number,
    readonly title: string,
    readonly publicMessage: string,
    /** For the log: why the request was refused. */
    readonly reason = publicMessage,
    readonly headers: Record<string, string> = {}
  ) {
    super(reason)
    this.name = 'HttpError'
  }
}

const CLIENT_ERRORS: Record<number, { title: string, message: string }> = {
  400: { title: 'Bad request', message: 'The form could not be read. Please go back and try again.' },
  403: { title: 'Forbidden', message: 'You do not have permission to do that.' },
  404: { title: 'Page not found', message: 'We could not find that page. The pet may have found a home already!' },
  405: { title: 'Method not allowed', message: 'That action is not available here.' },
  413: { title: 'Too large', message: 'What you sent is too large. Forms here accept at most 64 KiB.' },
  415: { title: 'Unsupported form', message: 'The form was sent in a format this site does not accept. Please use the form on the page.' },
  429: { title: 'Too many requests', message: 'Too many attempts. Please wait a moment and try again.' }
}

export async function notFound (request: FastifyRequest, reply: FastifyReply, services: Services): Promise<FastifyReply> {
  const { title, message } = CLIENT_ERRORS[404]!
  return await render(reply, <ErrorPage ctx={pageContext(request, reply, services)} title={title} message={message} />, 404)
}

export function registerErrorPages (app: FastifyInstance, services: Services): void {
  app.setNotFoundHandler((request, reply) => notFound(request, reply, services))

  app.setErrorHandler((error: FastifyError | HttpError | HasherBusyError, request, reply) => {
    if (error instanceof HttpError) {
      request.log.info({ status: error.statusCode, reason: error.reason }, 'request refused')
      reply.headers(error.headers)
      return render(reply, <ErrorPage ctx={pageContext(request, reply, services)} title={error.title} message={error.publicMessage} />, error.statusCode)
    }
    if (error instanceof HasherBusyError) {
      request.log.warn('password hashing at capacity: asked the client to retry')
      reply.header('retry-after', String(error.retryAfterSeconds))
      return render(reply, <ErrorPage ctx={pageContext(request, reply, services)} title='Busy' message='We are handling a lot of log-ins right now. Please try again in a few seconds.' />, 503)
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500
    if (status >= 400 && status < 500) {
      const known = CLIENT_ERRORS[status] ?? CLIENT_ERRORS[400]!
      request.log.info({ status, code: error.code }, 'client error')
      return render(reply, <ErrorPage ctx={pageContext(request, reply, services)} title={known.title} message={known.message} />, status)
    }
    request.log.error({ err: error }, 'unhandled error')
    return render(reply, <ErrorPage ctx={pageContext(request, reply, services)} title='Something went wrong' message='Sorry, something went wrong on our side. Please try again in a moment.' />, 500)
  })
}
