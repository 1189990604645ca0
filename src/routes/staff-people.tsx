/**
 * The rescue team's people pages (staff only, behind requireStaff): the account list with its search and
 * keyset pages, one account's page, and the actions on it. Every action is a POST carrying the form token;
 * the rules and the record live in auth/people.ts. A malformed page link is a 400 page, never a 5xx.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { type Actor, changeRole, endPersonSession, endPersonSessions, type Outcome, REFUSAL_MESSAGES, restoreAccount, sendResetLink, suspendAccount } from '../auth/people.js'
import { lastLogin, recentEvents } from '../db/queries/events.js'
import { listUserSessions } from '../db/queries/sessions.js'
import { findUserById, listPeople, type PersonRow } from '../db/queries/users.js'
import { HttpError, notFound } from '../http/errors.js'
import { type FlashKey, setFlash } from '../http/flash.js'
import { parseForm, text } from '../http/forms.js'
import { requireStaff } from '../http/guards.js'
import { pageContext, render } from '../http/render.js'
import { requestInfo } from '../http/request-info.js'
import type { Services } from '../services.js'
import { describeDevice } from '../views/format.js'
import { PeoplePage, type PersonSummary, PersonPage } from '../views/pages/people.js'
import { parseId } from './pages.js'

export const PEOPLE_PAGE_SIZE = 50
export const PERSON_EVENTS_PAGE_SIZE = 50
export const REASON_REQUIRED = 'Enter the reason for suspending this account.'
const BAD_LINK = 'That page link is not valid. Please start again from the list of people.'

/** No control, format, private-use or unassigned characters: what is left is a prefix both databases compare safely. */
const searchText = /^[^\p{C}]*$/u

const listQuerySchema = z.object({
  q: z.string().max(254).regex(searchText).optional().transform((q) => (q ?? '').trim().toLowerCase()),
  /** The keyset cursor: the created time and id of the last account of the previous page. */
  after: z.string().regex(/^\d{1,15}\.[1-9]\d{0,9}$/).optional()
    .transform((a) => a === undefined ? undefined : { createdAt: Number(a.split('.')[0]), id: Number(a.split('.')[1]) })
})

const personQuerySchema = z.object({ before: z.string().regex(/^[1-9]\d{0,14}$/).transform(Number).optional() })
const endSessionSchema = z.object({ sessionId: text('Session').regex(/^[0-9a-f]{64}$/) })
const suspendSchema = z.object({
  reason: text('Reason').trim().min(1, { error: REASON_REQUIRED }).max(500, { error: 'Use at most 500 characters.' })
    .regex(/^[^\p{Cc}\p{Cf}]*$/u, { error: 'Remove invisible or control characters.' })
})
const roleSchema = z.object({ role: z.enum(['staff', 'adopter']) })

type IdParams = { Params: { id: string } }

function badLink (): HttpError {
  return new HttpError(400, 'Bad request', BAD_LINK, 'people: malformed query')
}

function summary (row: PersonRow): PersonSummary {
  return {
    id: row.id,
    fullName: row.full_name,
    email: row.email,
    role: row.role,
    confirmed: row.email_verified_at !== null,
    twoFactor: row.two_factor_enabled_at !== null,
    suspended: row.suspended_at !== null,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at === null ? null : Number(row.last_login_at)
  }
}

function actorOf (request: FastifyRequest): Actor {
  return { id: request.user!.id, ...requestInfo(request) }
}

export async function staffPeopleRoutes (app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { db } = services

  // Every route here is for the rescue team; the guard runs after the CSRF check.
  app.addHook('preHandler', requireStaff)

  app.get('/staff/people', async (request, reply) => {
    const parsed = listQuerySchema.safeParse(request.query)
    if (!parsed.success) throw badLink()
    const { q, after } = parsed.data
    const rows = await listPeople(db.kysely, { prefix: q, emailOnly: q.includes('@'), after, limit: PEOPLE_PAGE_SIZE + 1 })
    const shown = rows.slice(0, PEOPLE_PAGE_SIZE)
    const last = shown[shown.length - 1]
    const nextHref = rows.length > PEOPLE_PAGE_SIZE && last !== undefined
      ? `/staff/people?${new URLSearchParams({ ...(q === '' ? {} : { q }), after: `${last.created_at}.${last.id}` }).toString()}`
      : null
    return await render(reply, <PeoplePage ctx={pageContext(request, reply, services)} query={q} people={shown.map(summary)} nextHref={nextHref} paged={after !== undefined} />)
  })

  interface PersonForms { error?: string, reasonError?: string }

  async function showPerson (request: FastifyRequest, reply: FastifyReply, id: number | null, forms: PersonForms = {}, status = 200, beforeId?: number) {
    const user = id === null ? undefined : await findUserById(db.kysely, id)
    if (user === undefined) return await notFound(request, reply, services)
    const [sessions, events, lastLoginAt] = await Promise.all([
      listUserSessions(db.kysely, user.id),
      recentEvents(db.kysely, user.id, PERSON_EVENTS_PAGE_SIZE + 1, beforeId),
      lastLogin(db.kysely, user.id)
    ])
    const shownEvents = events.slice(0, PERSON_EVENTS_PAGE_SIZE)
    const oldest = shownEvents[shownEvents.length - 1]
    return await render(reply, (
      <PersonPage
        ctx={pageContext(request, reply, services)}
        person={{
          ...summary({ ...user, last_login_at: lastLoginAt ?? null }),
          suspendedAt: user.suspended_at,
          suspensionReason: user.suspension_reason
        }}
        sessions={sessions.filter((s) => services.sessions.isLive(s)).map((s) => ({ id: s.id, device: describeDevice(s.user_agent), ip: s.ip, lastSeenAt: s.last_seen_at }))}
        events={shownEvents.map((e) => ({ id: e.id, type: e.type, ip: e.ip, at: e.created_at, actorUserId: e.actor_user_id, detail: e.detail }))}
        olderEventsHref={events.length > PERSON_EVENTS_PAGE_SIZE && oldest !== undefined ? `/staff/people/${user.id}?before=${oldest.id}` : null}
        error={forms.error}
        reasonError={forms.reasonError}
      />
    ), status)
  }

  app.get<IdParams>('/staff/people/:id', async (request, reply) => {
    const parsed = personQuerySchema.safeParse(request.query)
    if (!parsed.success) throw badLink()
    return await showPerson(request, reply, parseId(request.params.id), {}, 200, parsed.data.before)
  })

  /** Redirects back to the account with a message when the action was done; shows why when it was refused. */
  async function answer (request: FastifyRequest, reply: FastifyReply, id: number, outcome: Outcome, done: FlashKey) {
    if (outcome === 'not-found') return await notFound(request, reply, services)
    if (outcome === 'done' || outcome === 'unchanged') {
      request.log.info({ targetUserId: id, userId: request.user!.id, outcome, action: done }, 'staff action on an account')
      setFlash(reply, services, outcome === 'done' ? done : 'person-unchanged')
      return await reply.redirect(`/staff/people/${id}`, 303)
    }
    request.log.info({ targetUserId: id, userId: request.user!.id, refused: outcome }, 'staff action refused')
    return await showPerson(request, reply, id, { error: REFUSAL_MESSAGES[outcome] }, outcome === 'self' ? 403 : outcome === 'capped' ? 429 : 409)
  }

  /** One POST route a person: finds the id, runs the action, answers. */
  function action (path: string, run: (request: FastifyRequest, id: number) => Promise<Outcome>, done: FlashKey) {
    app.post<IdParams>(`/staff/people/:id/${path}`, async (request, reply) => {
      const id = parseId(request.params.id)
      if (id === null) return await notFound(request, reply, services)
      return await answer(request, reply, id, await run(request, id), done)
    })
  }

  action('sessions/end', async (request, id) => {
    const form = parseForm(endSessionSchema, request.body)
    return form.ok ? await endPersonSession(services, actorOf(request), id, form.data.sessionId) : 'unchanged'
  }, 'person-session-ended')

  action('sessions/end-all', async (request, id) => await endPersonSessions(services, actorOf(request), id), 'person-sessions-ended')

  app.post<IdParams>('/staff/people/:id/suspend', async (request, reply) => {
    const id = parseId(request.params.id)
    if (id === null) return await notFound(request, reply, services)
    const form = parseForm(suspendSchema, request.body)
    if (!form.ok) return await showPerson(request, reply, id, { reasonError: form.errors.reason ?? REASON_REQUIRED }, 400)
    return await answer(request, reply, id, await suspendAccount(services, actorOf(request), id, form.data.reason), 'person-suspended')
  })

  action('restore', async (request, id) => await restoreAccount(services, actorOf(request), id), 'person-restored')

  app.post<IdParams>('/staff/people/:id/role', async (request, reply) => {
    const id = parseId(request.params.id)
    if (id === null) return await notFound(request, reply, services)
    const form = parseForm(roleSchema, request.body)
    if (!form.ok) throw new HttpError(400, 'Bad request', 'Choose staff or adopter.', 'people: unknown role')
    return await answer(request, reply, id, await changeRole(services, actorOf(request), id, form.data.role), 'person-role-changed')
  })

  action('password-reset', async (request, id) => await sendResetLink(services, actorOf(request), id), 'person-reset-sent')
}
