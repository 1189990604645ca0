/**
 * The rescue team's people pages: every account, newest first, with a search box and keyset page links;
 * and one account with its sessions, its history and the team's actions, each a form with the form token.
 */
import type { AccountEventType, Role } from '../../db/schema.js'
import type { PageContext } from '../context.js'
import { Layout } from '../layout.js'
import { CsrfField } from '../components/csrf-field.js'
import { DataTable } from '../components/data-table.js'
import { Field } from '../components/field.js'
import { formatDate, formatDateTime, isoTime } from '../format.js'
import { EVENT_LABELS } from './account.js'

export interface PersonSummary {
  id: number
  fullName: string
  email: string
  role: Role
  confirmed: boolean
  /** Two-factor authentication: null until that feature lands (shown as "—"). */
  twoFactor: boolean
  suspended: boolean
  createdAt: number
  lastLoginAt: number | null
}

export interface PeoplePageProps {
  ctx: PageContext
  query: string
  people: PersonSummary[]
  /** The link to the next page (the keyset cursor), or null on the last page. */
  nextHref: string | null
  /** Whether this page is not the first (a link back to the start is shown). */
  paged: boolean
}

function When ({ ms }: { ms: number | null }): JSX.Element {
  return ms === null ? <span>never</span> : <time datetime={isoTime(ms)} safe>{formatDateTime(ms)}</time>
}

function roleName (role: Role): string {
  return role === 'staff' ? 'Rescue team' : 'Adopter'
}

export function PeoplePage ({ ctx, query, people, nextHref, paged }: PeoplePageProps): JSX.Element {
  return (
    <Layout title='People' ctx={ctx}>
      <h1>People</h1>
      <form method='get' action='/staff/people' class='form' role='search'>
        <Field name='q' label='Find by the start of an email address or a name' type='search' value={query} maxlength={254} required={false} />
        <button type='submit' class='button'>Search</button>
      </form>
      {people.length === 0
        ? <p>No accounts match.</p>
        : (
          <DataTable caption='Accounts, newest first' columns={['Name', 'Email', 'Role', 'Email confirmed', 'Two-factor', 'Status', 'Created', 'Last login']}>
            {people.map((p) => (
              <tr>
                <td data-label='Name'><a href={`/staff/people/${p.id}`} safe>{p.fullName}</a></td>
                <td data-label='Email' safe>{p.email}</td>
                <td data-label='Role' safe>{roleName(p.role)}</td>
                <td data-label='Email confirmed'>{p.confirmed ? 'yes' : 'no'}</td>
                <td data-label='Two-factor'>{p.twoFactor ? 'on' : 'off'}</td>
                <td data-label='Status'>{p.suspended ? <strong class='badge'>suspended</strong> : 'active'}</td>
                <td data-label='Created'><time datetime={isoTime(p.createdAt)} safe>{formatDate(p.createdAt)}</time></td>
                <td data-label='Last login'><When ms={p.lastLoginAt} /></td>
              </tr>
            ))}
          </DataTable>
          )}
      <nav aria-label='Pages of accounts' class='pager'>
        {paged && <a href={query === '' ? '/staff/people' : `/staff/people?q=${encodeURIComponent(query)}`}>First page</a>}
        {nextHref !== null && <a href={nextHref} rel='next'>Next page</a>}
      </nav>
    </Layout>
  )
}

export interface PersonSessionView { id: string, device: string, ip: string, lastSeenAt: number }
export interface PersonEventView { id: number, type: AccountEventType, ip: string, at: number, actorUserId: number | null, detail: string | null }

export interface PersonPageProps {
  ctx: PageContext
  person: PersonSummary & { suspensionReason: string | null, suspendedAt: number | null }
  sessions: PersonSessionView[]
  events: PersonEventView[]
  /** The link to older events, or null when these are the oldest. */
  olderEventsHref: string | null
  /** Why the last action was refused, shown above the actions. */
  error?: string | undefined
  reasonError?: string | undefined
}

export function PersonPage ({ ctx, person, sessions, events, olderEventsHref, error, reasonError }: PersonPageProps): JSX.Element {
  const token = ctx.csrfToken()
  const base = `/staff/people/${person.id}`
  const self = ctx.user?.id === person.id
  return (
    <Layout title={person.fullName} ctx={ctx}>
      <p><a href='/staff/people'>All people</a></p>
      <h1 safe>{person.fullName}</h1>
      {error !== undefined && <p class='form-error' role='alert' safe>{error}</p>}
      <section aria-labelledby='details-heading' class='panel'>
        <h2 id='details-heading'>Details</h2>
        <dl class='facts'>
          <dt>Email</dt><dd><span safe>{person.email}</span>{person.confirmed ? <span class='badge badge-quiet'>confirmed</span> : <strong class='badge'>not confirmed</strong>}</dd>
          <dt>Role</dt><dd safe>{roleName(person.role)}</dd>
          <dt>Two-factor</dt><dd>{person.twoFactor ? 'on' : 'off'}</dd>
          <dt>Status</dt>
          <dd>
            {person.suspendedAt === null
              ? 'Active'
              : <>Suspended since <When ms={person.suspendedAt} />: <span safe>{person.suspensionReason ?? ''}</span></>}
          </dd>
          <dt>Created</dt><dd><When ms={person.createdAt} /></dd>
          <dt>Last login</dt><dd><When ms={person.lastLoginAt} /></dd>
        </dl>
      </section>

      <section aria-labelledby='sessions-heading' class='panel'>
        <h2 id='sessions-heading'>Live sessions</h2>
        {sessions.length === 0
          ? <p>No live sessions.</p>
          : (
            <>
              <DataTable caption='Live sessions of this account' columns={['Browser', 'IP address', 'Last seen', { hidden: 'Action' }]}>
                {sessions.map((s) => (
                  <tr>
                    <td data-label='Browser' safe>{s.device}</td>
                    <td data-label='IP address' safe>{s.ip}</td>
                    <td data-label='Last seen'><When ms={s.lastSeenAt} /></td>
                    <td>
                      <form method='post' action={`${base}/sessions/end`} class='inline-form'>
                        <CsrfField token={token} />
                        <input type='hidden' name='sessionId' value={s.id} />
                        <button type='submit' class='button button-small button-secondary'>End this session<span class='visually-hidden'> on <span safe>{s.device}</span></span></button>
                      </form>
                    </td>
                  </tr>
                ))}
              </DataTable>
              <form method='post' action={`${base}/sessions/end-all`} class='form'>
                <CsrfField token={token} />
                <button type='submit' class='button button-secondary'>End all sessions</button>
              </form>
            </>
            )}
      </section>

      <section aria-labelledby='actions-heading' class='panel'>
        <h2 id='actions-heading'>Actions</h2>
        {self && <p>This is your own account: you cannot change its role or suspend it.</p>}
        {person.suspendedAt === null
          ? !self && (
            <form method='post' action={`${base}/suspend`} class='form' novalidate>
              <CsrfField token={token} />
              <Field name='reason' label='Reason for suspending' value='' error={reasonError} maxlength={500} />
              <button type='submit' class='button button-danger'>Suspend</button>
            </form>
            )
          : (
            <form method='post' action={`${base}/restore`} class='form'>
              <CsrfField token={token} />
              <button type='submit' class='button'>Restore</button>
            </form>
            )}
        {!self && (
          <form method='post' action={`${base}/role`} class='form'>
            <CsrfField token={token} />
            <input type='hidden' name='role' value={person.role === 'staff' ? 'adopter' : 'staff'} />
            <button type='submit' class='button button-secondary'>{person.role === 'staff' ? 'Make adopter' : 'Make staff'}</button>
          </form>
        )}
        <form method='post' action={`${base}/password-reset`} class='form'>
          <CsrfField token={token} />
          <button type='submit' class='button button-secondary'>Send a password reset link</button>
        </form>
      </section>

      <section aria-labelledby='events-heading' class='panel'>
        <h2 id='events-heading'>History</h2>
        {events.length === 0
          ? <p>No events.</p>
          : (
            <DataTable caption='Events on this account, newest first' columns={['What', 'By', 'Detail', 'When', 'IP address']}>
              {events.map((e) => (
                <tr>
                  <td data-label='What' safe>{EVENT_LABELS[e.type]}</td>
                  <td data-label='By'>
                    {e.actorUserId === null || e.actorUserId === person.id
                      ? (e.ip === 'cli' ? 'an operator' : 'the owner')
                      : <a href={`/staff/people/${e.actorUserId}`} safe>{`staff member #${e.actorUserId}`}</a>}
                  </td>
                  <td data-label='Detail' safe>{e.detail ?? ''}</td>
                  <td data-label='When'><When ms={e.at} /></td>
                  <td data-label='IP address' safe>{e.ip}</td>
                </tr>
              ))}
            </DataTable>
            )}
        {olderEventsHref !== null && <p><a href={olderEventsHref}>Older events</a></p>}
      </section>
    </Layout>
  )
}
