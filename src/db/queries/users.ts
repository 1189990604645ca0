/** Account rows. Emails are normalised (trimmed, lower-cased) before they reach these functions. */
import { type Kysely, PostgresAdapter } from 'kysely'
import { precompiled } from '../precompiled.js'
import type { Database, NewUser, Role, User } from '../schema.js'

type Q = Kysely<Database>

/** Runs on every login and sign-up: compiled once (precompiled). */
const selectUserByEmail = precompiled((db: Q, email: string) => db.selectFrom('users').selectAll().where('email', '=', email))

export async function findUserByEmail (db: Q, email: string): Promise<User | undefined> {
  return (await selectUserByEmail(db, email)).rows[0]
}

export async function findUserById (db: Q, id: number): Promise<User | undefined> {
  return await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The lower-cased name the people page's search finds accounts by. */
export function nameKey (fullName: string): string {
  return fullName.toLowerCase()
}

/** Throws the database's unique violation when the email is taken; callers turn it into a field message. */
export async function insertUser (db: Q, user: Omit<NewUser, 'name_key'>): Promise<User> {
  return await db.insertInto('users').values({ ...user, name_key: nameKey(user.full_name) }).returningAll().executeTakeFirstOrThrow()
}

export async function updatePasswordHash (db: Q, userId: number, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute()
}

export async function setRole (db: Q, userId: number, role: Role): Promise<void> {
  await db.updateTable('users').set({ role }).where('id', '=', userId).execute()
}

/** Where a page of the people list starts: after this account in the newest-first order. */
export interface PeopleCursor { createdAt: number, id: number }

export interface PersonRow {
  id: number
  email: string
  full_name: string
  role: Role
  created_at: number
  email_verified_at: number | null
  suspended_at: number | null
  two_factor_enabled_at: number | null
  last_login_at: number | null
}

export interface PeopleQuery {
  /** Finds accounts whose email, or whose lower-cased name, starts with this (already lower-cased). */
  prefix?: string
  /** Only the email, when the search looks like an address. */
  emailOnly?: boolean
  after?: PeopleCursor
  limit: number
}

/**
 * The smallest string above every string that starts with `prefix`, in code point order (SQLite's BINARY
 * collation, PostgreSQL's "C" and "C.UTF-8"): the prefix with its last character stepped up by one.
 */
export function prefixUpperBound (prefix: string): string {
  const chars = [...prefix]
  const last = chars.pop()!.codePointAt(0)!
  return chars.join('') + String.fromCodePoint(last + 1)
}

/**
 * Accounts newest first, a page at a time by keyset (created_at, id): no OFFSET, and accounts added
 * between two pages only ever appear on the first. The created order and the prefixes are ranges over
 * indexes (users_created_at_idx, the email's unique index, users_name_key_idx), never a table scan.
 */
export async function listPeople (db: Q, query: PeopleQuery): Promise<PersonRow[]> {
  return await peopleQuery(db, query).execute()
}

/** The list's statement, unexecuted: tests read its plan (EXPLAIN) on both databases. */
export function peopleQuery (db: Q, { prefix, emailOnly = false, after, limit }: PeopleQuery) {
  let query = db.selectFrom('users')
    .select((eb) => [
      'users.id', 'users.email', 'users.full_name', 'users.role', 'users.created_at', 'users.email_verified_at', 'users.suspended_at',
      'users.two_factor_enabled_at',
      eb.selectFrom('account_events').select('account_events.created_at')
        .whereRef('account_events.user_id', '=', 'users.id').where('account_events.type', '=', 'login')
        .orderBy('account_events.id', 'desc').limit(1).as('last_login_at')
    ])
  if (prefix !== undefined && prefix !== '') {
    const upper = prefixUpperBound(prefix)
    query = query.where((eb) => {
      const byEmail = eb.and([eb('users.email', '>=', prefix), eb('users.email', '<', upper)])
      return emailOnly ? byEmail : eb.or([byEmail, eb.and([eb('users.name_key', '>=', prefix), eb('users.name_key', '<', upper)])])
    })
  }
  if (after !== undefined) {
    query = query.where((eb) => eb(eb.refTuple('users.created_at', 'users.id'), '<', eb.tuple(after.createdAt, after.id)))
  }
  return query.orderBy('users.created_at', 'desc').orderBy('users.id', 'desc').limit(limit)
}

export async function setSuspension (db: Q, userId: number, suspension: { at: number, reason: string } | null): Promise<void> {
  await db.updateTable('users')
    .set({ suspended_at: suspension?.at ?? null, suspension_reason: suspension?.reason ?? null })
    .where('id', '=', userId).execute()
}

/**
 * The staff accounts that may still log in, other than this one. On PostgreSQL every staff row is locked
 * until the transaction ends, so of two demotions racing for the last two staff accounts the second
 * counts after the first commits; SQLite transactions already run one at a time.
 */
export async function countOtherActiveStaff (db: Q, userId: number): Promise<number> {
  let query = db.selectFrom('users').select(['id', 'suspended_at']).where('role', '=', 'staff')
  if (db.getExecutor().adapter instanceof PostgresAdapter) query = query.forUpdate()
  const rows = await query.execute()
  return rows.filter((r) => r.id !== userId && r.suspended_at === null).length
}
