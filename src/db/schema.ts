/**
 * Every table described once; row, insert and update types are derived from these descriptions.
 * Times are milliseconds since the epoch (integers on both databases), so comparisons are exact.
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely'

export type Role = 'staff' | 'adopter'

export interface UsersTable {
  id: Generated<number>
  /** Trimmed and lower-cased: the unique index makes emails unique case-insensitively. */
  email: string
  full_name: string
  password_hash: string
  role: Role
  created_at: number
}

export interface PetsTable {
  id: Generated<number>
  name: string
  /** Lower-cased name, unique: two pets may not share a name whatever its case. */
  name_key: string
  age: string
  bio: string
  picture: string
  created_at: number
  updated_at: number
}

export interface SessionsTable {
  /** SHA-256 of the session token, hex. The token itself is never stored. */
  id: string
  user_id: number
  created_at: number
  last_seen_at: number
  /** Absolute expiry; the idle expiry is derived from last_seen_at and the remember flag. */
  expires_at: number
  /** 1 when "remember me" was ticked: a persistent cookie and the longer timeouts. */
  remember: number
  user_agent: string
  ip: string
}

export type AccountEventType =
  | 'signup' | 'login' | 'login_failed' | 'login_throttled' | 'logout'
  | 'password_changed' | 'session_ended' | 'other_sessions_ended' | 'sessions_revoked' | 'role_changed'

export interface AccountEventsTable {
  id: Generated<number>
  user_id: number
  type: AccountEventType
  ip: string
  user_agent: string
  created_at: number
}

export interface AppMetaTable {
  key: string
  value: string
}

export interface Database {
  users: UsersTable
  pets: PetsTable
  sessions: SessionsTable
  account_events: AccountEventsTable
  app_meta: AppMetaTable
}

export type User = Selectable<UsersTable>
export type NewUser = Insertable<UsersTable>
export type Pet = Selectable<PetsTable>
export type NewPet = Insertable<PetsTable>
export type PetUpdate = Updateable<PetsTable>
export type SessionRow = Selectable<SessionsTable>
export type AccountEvent = Selectable<AccountEventsTable>
