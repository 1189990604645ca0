/**
 * Security headers on every response: a Content-Security-Policy that allows no inline script and no
 * framing, nosniff, and a referrer policy that keeps paths and queries on this site. @fastify/helmet
 * computes them, once at startup, in a throwaway instance (it would otherwise rebuild helmet on every
 * request); every response then receives the same precomputed set from one hook.
 */
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet'
import Fastify, { type FastifyInstance } from 'fastify'

export function helmetOptions ({ https }: { https: boolean }): FastifyHelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'none'"],
        'object-src': ["'none'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        ...(https ? { 'upgrade-insecure-requests': [] } : {})
      }
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false
  }
}

/** The headers @fastify/helmet sets on a response, with these options. */
export async function computeSecurityHeaders (options: FastifyHelmetOptions): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false })
  try {
    await probe.register(helmet, options)
    probe.get('/', async (_request, reply) => await reply.send(''))
    const response = await probe.inject('/')
    const ignored = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding'])
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(response.headers)) {
      if (!ignored.has(name) && value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value)
    }
    return headers
  } finally {
    await probe.close()
  }
}

export async function registerSecurityHeaders (app: FastifyInstance, { https }: { https: boolean }): Promise<void> {
  const headers = await computeSecurityHeaders(helmetOptions({ https }))
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })
}
