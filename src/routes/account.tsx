/**
 * The account page and what it can do: end one session, end all the others, change the password (which
 * ends every other session, gives this one a new token, kills every reset link and mails a notice). The
 * address's forms post to the verification routes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { recentEvents, recordEvent } from '../db/queries/events.js'
import { deleteUserSession, deleteUserSessions, listUserSessions } from '../db/queries/sessions.js'
import { findUserById } from '../db/queries/users.js'
import { pendingEmailChange } from '../db/queries/one-time-tokens.js'
import { changePassword } from '../auth/password-change.js'
import { recoveryCodesLeft as recoveryCodesLeftFor } from '../auth/two-factor.js'
import { listAccountPasskeys } from '../auth/passkeys.js'
import { WRONG_CURRENT_PASSWORD } from '../auth/email-verification.js'
import { setFlash } from '../http/flash.js'
import { confirms, existingPasswordField, newPasswordField, parseForm, text } from '../http/forms.js'
import { requireUser } from '../http/guards.js'
import { pageContext, render } from '../http/render.js'
import { requestInfo } from '../http/request-info.js'
import { setSessionCookie } from '../http/session.js'
import type { Services } from '../services.js'
import { describeDevice } from '../views/format.js'
import { AccountPage, type EmailErrors, type PasswordErrors } from '../views/pages/account.js'

const passwordSchema = z.object({
  currentPassword: existingPasswordField,
  newPassword: newPasswordField,
  confirmPassword: text('Password confirmation')
}).superRefine(confirms('newPassword'))

const endSessionSchema = z.object({ sessionId: text('Session').regex(/^[0-9a-f]{64}$/) })

export interface AccountForms {
  passwordErrors?: PasswordErrors
  emailErrors?: EmailErrors
  /** The new address typed into the change form, shown again with its errors. */
  newEmail?: string
  passkeyError?: { id: number, message: string }
}

/** The account page of the signed-in user, with the messages of a form that failed. */
export async function showAccount (services: Services, request: FastifyRequest, reply: FastifyReply, forms: AccountForms = {}, status = 200) {
  const { db, sessions, clock } = services
  const user = request.user!
  const current = request.session!.id
  const [rows, events, stored, pendingEmail, passkeys] = await Promise.all([
    listUserSessions(db.kysely, user.id), recentEvents(db.kysely, user.id), findUserById(db.kysely, user.id), pendingEmailChange(db.kysely, user.id, clock()),
    listAccountPasskeys(services, user.id)
  ])
  const active = rows.filter((s) => sessions.isLive(s))
  const recoveryCodesLeft = stored?.two_factor_enabled_at == null ? null : await recoveryCodesLeftFor(services, user.id)
  return render(reply, (
    <AccountPage
      ctx={pageContext(request, reply, services)}
      account={{
        fullName: user.fullName,
        email: user.email,
        role: user.role,
        createdAt: user.createdAt,
        emailConfirmed: stored?.email_verified_at != null,
        pendingEmail: pendingEmail ?? null
      }}
      recoveryCodesLeft={recoveryCodesLeft}
      sessions={active.map((s) => ({
        id: s.id,
        device: describeDevice(s.user_agent),
        ip: s.ip,
        lastSeenAt: s.last_seen_at,
        createdAt: s.created_at,
        remember: s.remember === 1,
        current: s.id === current
      }))}
      passkeys={passkeys.map((p) => ({ id: p.id, name: p.name, createdAt: p.created_at, lastUsedAt: p.last_used_at }))}
      passkeyError={forms.passkeyError}
      events={events.map((e) => ({ type: e.type, ip: e.ip, at: e.created_at, byTeam: e.actor_user_id !== null && e.actor_user_id !== user.id, detail: e.detail }))}
      passwordErrors={forms.passwordErrors}
      emailErrors={forms.emailErrors}
      newEmail={forms.newEmail ?? ''}
    />
  ), status)
}

export async function accountRoutes (app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { db, hasher, sessions, clock } = services

  // Every route here needs a signed-in user; the guard runs after the CSRF check.
  app.addHook('preHandler', requireUser)

  app.get('/account', async (request, reply) => await showAccount(services, request, reply))

  app.post('/account/sessions/end', async (request, reply) => {
    const user = request.user!
    const form = parseForm(endSessionSchema, request.body)
    if (form.ok && form.data.sessionId !== request.session!.id &&
        await deleteUserSession(db.kysely, user.id, form.data.sessionId)) {
      services.metrics.sessionsEnded(1)
      await recordEvent(db.kysely, user.id, 'session_ended', { ...requestInfo(request), now: clock() })
      setFlash(reply, services, 'session-ended')
    }
    return await reply.redirect('/account', 303)
  })

  app.post('/account/sessions/end-others', async (request, reply) => {
    const user = request.user!
    const ended = await deleteUserSessions(db.kysely, user.id, request.session!.id)
    services.metrics.sessionsEnded(ended)
    if (ended > 0) await recordEvent(db.kysely, user.id, 'other_sessions_ended', { ...requestInfo(request), now: clock() })
    setFlash(reply, services, 'other-sessions-ended')
    return await reply.redirect('/account', 303)
  })

  app.post('/account/password', async (request, reply) => {
    const user = request.user!
    const form = parseForm(passwordSchema, request.body)
    if (!form.ok) return await showAccount(services, request, reply, { passwordErrors: form.errors }, 400)
    const stored = await findUserById(db.kysely, user.id)
    if (stored === undefined || !await hasher.verify(stored.password_hash, form.data.currentPassword)) {
      return await showAccount(services, request, reply, { passwordErrors: { currentPassword: WRONG_CURRENT_PASSWORD } }, 400)
    }
    services.metrics.sessionsEnded(await changePassword(services, stored, await hasher.hash(form.data.newPassword), requestInfo(request)))
    const issued = await sessions.create({ userId: user.id, remember: request.session!.remember === 1, ...requestInfo(request) })
    setSessionCookie(reply, services, issued)
    request.log.info({ userId: user.id }, 'password changed; every session replaced')
    setFlash(reply, services, 'password-changed')
    return await reply.redirect('/account', 303)
  })
}
