/** Account rows. Emails are normalised (trimmed, lower-cased) before they reach these functions. */
import type { Kysely } from 'kysely'
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

/** Throws the database's unique violation when the email is taken; callers turn it into a field message. */
export async function insertUser (db: Q, user: NewUser): Promise<User> {
  return await db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow()
}

export async function updatePasswordHash (db: Q, userId: number, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute()
}

export async function setRole (db: Q, userId: number, role: Role): Promise<void> {
  await db.updateTable('users').set({ role }).where('id', '=', userId).execute()
}
