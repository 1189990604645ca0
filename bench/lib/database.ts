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
  /** Bytes the database occupies (file and WAL, or the PostgreSQL database). */
  sizeBytes: () => Promise<number>
  close: () => Promise<void>
}

const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000
const FILLER_BATCH = 100_000
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
  return {
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
