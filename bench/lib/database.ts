/**
 * Direct access to the benchmark's own database, for what a browser cannot do quickly: putting a
 * million sessions in the table. SQLite through better-sqlite3 (WAL mode, beside the running server),
 * PostgreSQL through pg. Also creates and drops the temporary PostgreSQL database for --pg.
 */
import { createHash, randomBytes } from 'node:crypto'
import SqliteDatabase from 'better-sqlite3'
import pg from 'pg'

export interface BenchDb {
  userId: (email: string) => Promise<number>
  /** Removes every session, so that the table holds exactly what the benchmark puts in it. */
  deleteAllSessions: () => Promise<void>
  insertSessions: (userId: number, ids: readonly string[], now: number) => Promise<void>
  /** Adds `count` sessions with random ids (nobody holds their tokens), in batches. */
  insertFillerSessions: (userId: number, count: number, now: number) => Promise<void>
  /** Removes the filler sessions again, leaving the ones inserted with insertSessions. */
  deleteFillerSessions: () => Promise<void>
  /** Marks these sessions as just used, so that no last-seen write falls inside a measurement. */
  touchSessions: (ids: readonly string[], now: number) => Promise<void>
  countSessions: () => Promise<number>
  /**
   * Adds `count` accounts named `${prefix}-<n>@bench.example` ("Bench <prefix> <n>"), created one second
   * apart before `now`, with a dummy password hash nobody can log in with: the people page's rows.
   */
  insertAccounts: (prefix: string, count: number, now: number) => Promise<void>
  /** Removes the accounts insertAccounts added with this prefix. */
  deleteAccounts: (prefix: string) => Promise<void>
  countUsers: () => Promise<number>
  /** Bytes the database occupies (file and WAL, or the PostgreSQL database). */
  sizeBytes: () => Promise<number>
  close: () => Promise<void>
}

const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000
const FILLER_BATCH = 100_000
const ACCOUNT_SPACING_MS = 1000
/** Not an argon2 hash: no password verifies against it. */
const DUMMY_PASSWORD_HASH = 'bench-no-password'

/** The address range of the accounts insertAccounts adds with this prefix (for a range delete on the unique index). */
function accountRange (prefix: string): [string, string] {
  return [`${prefix}-`, `${prefix}.`]
}
const USER_AGENT = 'paws-bench'

/** A session token as the site issues them (32 random bytes, base64url) and its id (SHA-256, hex). */
export function newSessionToken (): { token: string, id: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, id: createHash('sha256').update(token).digest('hex') }
}

export function openSqlite (file: string): BenchDb {
  const db = new SqliteDatabase(file, { timeout: 30_000 })
  db.pragma('journal_mode = WAL')
  const insert = db.prepare(`insert into sessions (id, user_id, created_at, last_seen_at, expires_at, remember, user_agent, ip)
    values (?, ?, ?, ?, ?, 0, '${USER_AGENT}', '127.0.0.1')`)
  const filler = db.prepare(`insert into sessions (id, user_id, created_at, last_seen_at, expires_at, remember, user_agent, ip)
    with recursive n(i) as (select 1 union all select i + 1 from n where i < ?)
    select lower(hex(randomblob(32))), ?, ?, ?, ?, 0, '${USER_AGENT} filler', '127.0.0.1' from n`)
  const touch = db.prepare('update sessions set last_seen_at = ? where id = ?')
  const accounts = db.prepare(`insert into users (email, full_name, name_key, password_hash, role, created_at, email_verified_at)
    with recursive n(i) as (select ? union all select i + 1 from n where i < ?)
    select ? || '-' || i || '@bench.example', 'Bench ' || ? || ' ' || i, 'bench ' || lower(?) || ' ' || i, '${DUMMY_PASSWORD_HASH}', 'adopter', ? - i * ${ACCOUNT_SPACING_MS}, null from n`)
  return {
    insertAccounts: async (prefix, count, now) => {
      for (let done = 0; done < count;) {
        const n = Math.min(FILLER_BATCH, count - done)
        db.transaction(() => { accounts.run(done, done + n - 1, prefix, prefix, prefix, now) })()
        done += n
        await new Promise((resolve) => setImmediate(resolve))
      }
      db.pragma('wal_checkpoint(TRUNCATE)')
    },
    deleteAccounts: async (prefix) => {
      const [from, to] = accountRange(prefix)
      db.prepare('delete from users where email >= ? and email < ?').run(from, to)
      db.pragma('wal_checkpoint(TRUNCATE)')
    },
    countUsers: async () => (db.prepare('select count(*) as n from users').get() as { n: number }).n,
    userId: async (email) => {
      const row = db.prepare('select id from users where email = ?').get(email) as { id: number } | undefined
      if (row === undefined) throw new Error(`no user ${email}`)
      return row.id
    },
    deleteAllSessions: async () => { db.prepare('delete from sessions').run() },
    insertSessions: async (userId, ids, now) => {
      db.transaction(() => { for (const id of ids) insert.run(id, userId, now, now, now + SESSION_LIFETIME_MS) })()
    },
    insertFillerSessions: async (userId, count, now) => {
      for (let done = 0; done < count;) {
        const n = Math.min(FILLER_BATCH, count - done)
        db.transaction(() => { filler.run(n, userId, now, now, now + SESSION_LIFETIME_MS) })()
        done += n
        await new Promise((resolve) => setImmediate(resolve))
      }
      db.pragma('wal_checkpoint(TRUNCATE)')
    },
    deleteFillerSessions: async () => {
      db.prepare(`delete from sessions where user_agent = '${USER_AGENT} filler'`).run()
      db.pragma('wal_checkpoint(TRUNCATE)')
    },
    touchSessions: async (ids, now) => {
      db.transaction(() => { for (const id of ids) touch.run(now, id) })()
    },
    countSessions: async () => (db.prepare('select count(*) as n from sessions').get() as { n: number }).n,
    sizeBytes: async () => {
      const pages = db.pragma('page_count', { simple: true }) as number
      const size = db.pragma('page_size', { simple: true }) as number
      return pages * size
    },
    close: async () => { db.close() }
  }
}

export async function openPostgres (url: string): Promise<BenchDb> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  return {
    insertAccounts: async (prefix, count, now) => {
      for (let done = 0; done < count;) {
        const n = Math.min(FILLER_BATCH, count - done)
        await client.query(`insert into users (email, full_name, name_key, password_hash, role, created_at, email_verified_at)
          select $1 || '-' || i || '@bench.example', 'Bench ' || $1 || ' ' || i, 'bench ' || lower($1) || ' ' || i, '${DUMMY_PASSWORD_HASH}', 'adopter', $2::bigint - i * ${ACCOUNT_SPACING_MS}, null
          from generate_series($3::int, $4::int) as i`, [prefix, now, done, done + n - 1])
        done += n
      }
      await client.query('vacuum analyze users')
    },
    deleteAccounts: async (prefix) => {
      const [from, to] = accountRange(prefix)
      await client.query('delete from users where email >= $1 and email < $2', [from, to])
      await client.query('vacuum analyze users')
    },
    countUsers: async () => Number((await client.query<{ n: string }>('select count(*) as n from users')).rows[0]!.n),
    userId: async (email) => {
      const result = await client.query<{ id: number }>('select id from users where email = $1', [email])
      if (result.rows[0] === undefined) throw new Error(`no user ${email}`)
      return Number(result.rows[0].id)
    },
    deleteAllSessions: async () => { await client.query('delete from sessions') },
    insertSessions: async (userId, ids, now) => {
      await client.query(`insert into sessions (id, user_id, created_at, last_seen_at, expires_at, remember, user_agent, ip)
        select id, $2, $3, $3, $4, 0, '${USER_AGENT}', '127.0.0.1' from unnest($1::text[]) as id`, [ids, userId, now, now + SESSION_LIFETIME_MS])
    },
    insertFillerSessions: async (userId, count, now) => {
      for (let done = 0; done < count;) {
        const n = Math.min(FILLER_BATCH, count - done)
        await client.query(`insert into sessions (id, user_id, created_at, last_seen_at, expires_at, remember, user_agent, ip)
          select replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), $1, $2, $2, $3, 0, '${USER_AGENT} filler', '127.0.0.1'
          from generate_series(1, $4)`, [userId, now, now + SESSION_LIFETIME_MS, n])
        done += n
      }
      await client.query('vacuum analyze sessions')
    },
    deleteFillerSessions: async () => {
      await client.query(`delete from sessions where user_agent = '${USER_AGENT} filler'`)
      await client.query('vacuum analyze sessions')
    },
    touchSessions: async (ids, now) => {
      await client.query('update sessions set last_seen_at = $1 where id = any($2::text[])', [now, ids])
    },
    countSessions: async () => Number((await client.query<{ n: string }>('select count(*) as n from sessions')).rows[0]!.n),
    sizeBytes: async () => Number((await client.query<{ n: string }>('select pg_database_size(current_database()) as n')).rows[0]!.n),
    close: async () => { await client.end() }
  }
}

/** A new, empty PostgreSQL database beside `adminUrl`'s; drop() removes it, ending its connections. */
export async function createPostgresDatabase (adminUrl: string): Promise<{ url: string, name: string, drop: () => Promise<void> }> {
  const name = `paws_bench_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  await admin(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), name, drop: async () => { await admin(`drop database if exists ${name} with (force)`) } }
}
