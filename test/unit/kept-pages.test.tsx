/**
 * keptPageRenderer's rules that the site's own pages do not reach today: an anonymous page that carries a
 * form token (made from the visitor's own cookie) is never kept, and one without a form token is.
 * The request and reply are the few fields the renderer reads and calls.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { describe, expect, it } from 'vitest'
import type { ChangeSignal } from '../../src/db/change-signal.js'
import { cookieNames } from '../../src/http/cookies.js'
import { keptPageRenderer } from '../../src/http/render.js'
import type { Services } from '../../src/services.js'
import type { PageContext } from '../../src/views/context.js'

const signal: ChangeSignal = { mark: () => 1, refresh: () => {} }

function services (changes: ChangeSignal): Services {
  return { db: { changes }, cookies: cookieNames(false), config: { session: { secureCookie: false } } } as unknown as Services
}

const anonymous = { session: null, user: null, url: '/', cookies: {} } as unknown as FastifyRequest

/** The page sent to a visitor without a session whose form token comes from their own cookie. */
async function bodyOf (cookieToken: string, render: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>): Promise<string> {
  let sent: Buffer | undefined
  const reply = {
    statusCode: 200,
    csrfToken: () => `token-of-${cookieToken}`,
    code () { return reply },
    header () { return reply },
    type () { return reply },
    send (bytes: Buffer) { sent = bytes; return reply }
  }
  await render(anonymous, reply as unknown as FastifyReply)
  return sent!.toString()
}

const data = Object.freeze([])
const withForm = (ctx: PageContext): JSX.Element => <form><input name='_csrf' value={ctx.csrfToken()} /></form>
const withoutForm = (): JSX.Element => <p>Hello</p>

describe('keptPageRenderer', () => {
  it('renders anew for each anonymous visitor a page that carries their form token', async () => {
    const render = keptPageRenderer<typeof data>(services(signal))
    const first = await bodyOf('alice', async (request, reply) => await render(request, reply, data, withForm))
    const second = await bodyOf('bob', async (request, reply) => await render(request, reply, data, withForm))
    expect(first).toContain('token-of-alice')
    expect(second).toContain('token-of-bob')
  })

  it('keeps an anonymous page without a form token', async () => {
    let renders = 0
    const page = (): JSX.Element => { renders++; return withoutForm() }
    const kept = keptPageRenderer<typeof data>(services(signal))
    await bodyOf('alice', async (request, reply) => await kept(request, reply, data, page))
    await bodyOf('bob', async (request, reply) => await kept(request, reply, data, page))
    expect(renders).toBe(1)
  })
})
