/**
 * The keys that sign form tokens: SECRET_KEY when set; otherwise a random key made once and kept with the
 * data (a file next to the SQLite database, a row of app_meta on PostgreSQL), so forms opened before a
 * restart still post and every instance sharing the data agrees. Whoever makes the key first wins: the
 * others read the same one. SECRET_KEY_PREVIOUS is accepted for reading while a new key settles in.
 */
import { randomBytes } from 'node:crypto'
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { Config } from '../config.js'
import type { Db } from '../db/connect.js'

export interface SigningKeys {
  /** Signs every new token. */
  readonly current: string
  /** Also accepted when checking a token (SECRET_KEY_PREVIOUS during a rotation), never used to sign. */
  readonly previous: readonly string[]
}

const STORED_KEY_BYTES = 32
const STORED_KEY_NAME = 'secret_key'
/** Owner read/write only: whoever reads the key can forge form tokens. */
const KEY_FILE_MODE = 0o600
const MIN_KEY_LENGTH = 32

export function newStoredKey (): string {
  return randomBytes(STORED_KEY_BYTES).toString('base64url')
}

/** Where a SQLite database keeps its key: beside it, like its -wal and -shm files. */
export function keyFileFor (databaseFile: string): string {
  return `${databaseFile}-secret-key`
}

function checked (key: string, where: string): string {
  if (key.length < MIN_KEY_LENGTH) throw new Error(`the secret key kept in ${where} is damaged (shorter than ${MIN_KEY_LENGTH} characters); remove it to make a new one, or set SECRET_KEY`)
  return key
}

/**
 * Written whole under a temporary name, then linked into place: link() fails when the name exists, so of
 * two processes starting at once exactly one key lands, and nobody ever reads a half-written file.
 */
function fileKey (file: string): string {
  try {
    return checked(readFileSync(file, 'utf8').trim(), file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  writeFileSync(draft, newStoredKey(), { mode: KEY_FILE_MODE, flag: 'wx' })
  try {
    linkSync(draft, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    rmSync(draft, { force: true })
  }
  return checked(readFileSync(file, 'utf8').trim(), file)
}

/** Insert-if-absent, then read: two instances starting at once on one database read the same row. */
async function rowKey (db: Db): Promise<string> {
  await db.kysely.insertInto('app_meta').values({ key: STORED_KEY_NAME, value: newStoredKey() })
    .onConflict((oc) => oc.column('key').doNothing()).execute()
  const row = await db.kysely.selectFrom('app_meta').select('value').where('key', '=', STORED_KEY_NAME).executeTakeFirstOrThrow()
  return checked(row.value, `app_meta (key ${STORED_KEY_NAME})`)
}

async function storedKey (config: Config, db: Db): Promise<string> {
  const database = config.database
  if (database.kind === 'postgres') return await rowKey(db)
  // A private in-memory database lives and dies with this process, and so does its key.
  if (database.file === ':memory:') return newStoredKey()
  return fileKey(keyFileFor(database.file))
}

/** Run after the migrations (app_meta must exist). */
export async function resolveSigningKeys (config: Config, db: Db): Promise<SigningKeys> {
  const current = config.secretKey ?? await storedKey(config, db)
  const previous = config.previousSecretKey === null || config.previousSecretKey === current ? [] : [config.previousSecretKey]
  return Object.freeze({ current, previous: Object.freeze(previous) })
}
