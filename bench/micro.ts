/**
 * Per-call costs of the pieces of an authenticated page view, measured in isolation (no HTTP): the session
 * lookup and the pet list through Kysely, the same through prepared statements, the page rendering, and
 * the form-token HMAC. A guide for where to look, not a figure the targets are judged on.
 *
 * Usage: tsx bench/micro.ts
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPasswordHasher } from '../src/auth/passwords.js'
import { createSessionManager } from '../src/auth/sessions.js'
import { hashToken, hmac } from '../src/auth/tokens.js'
import { loadConfig } from '../src/config.js'
import { connect } from '../src/db/connect.js'
import { migrateToLatest } from '../src/db/migrate.js'
import { listPets } from '../src/db/queries/pets.js'
import { findSessionWithUser } from '../src/db/queries/sessions.js'
import { seedDemoData } from '../src/db/seed.js'
import { HomePage } from '../src/views/pages/home.js'

async function time (label: string, iterations: number, fn: () => unknown): Promise<void> {
  for (let i = 0; i < Math.min(2000, iterations / 10); i++) await fn()
  const started = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) await fn()
  const us = Number(process.hrtime.bigint() - started) / 1000 / iterations
  process.stdout.write(`${label.padEnd(48)} ${us.toFixed(2).padStart(8)} µs\n`)
}

const dir = mkdtempSync(join(tmpdir(), 'paws-micro-'))
try {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: join(dir, 'paws.db'), SECRET_KEY: randomBytes(32).toString('base64url') })
  const secretKey = config.secretKey!
  const db = connect(config.database)
  await migrateToLatest(db)
  const hasher = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, { concurrency: 1, queue: 10 })
  await seedDemoData(db, hasher, Date.now())
  const sessions = createSessionManager(db, config.session, Date.now)
  const issued = await sessions.create({ userId: 1, remember: false, userAgent: 'micro', ip: '127.0.0.1' })
  const N = 20_000
  if (db.driver.kind !== 'sqlite') throw new Error('sqlite only')
  const raw = db.driver.database
  const stmtSession = raw.prepare(`select s.*, u.email, u.full_name, u.role, u.created_at as user_created_at
    from sessions s join users u on u.id = s.user_id where s.id = ?`)
  const stmtPets = raw.prepare('select * from pets order by id')

  await time('sha256 of the token', N, () => hashToken(issued.token))
  await time('findSessionWithUser (precompiled)', N, async () => await findSessionWithUser(db.kysely, issued.id))
  const changes = db.changes!
  await time('change mark, read anew (as once per request)', N, () => { changes.refresh(); return changes.mark() })
  await time('change mark, remembered in the request', N, () => changes.mark())
  await time('sessions.resolve (a new request, cached)', N, async () => { changes.refresh(); return await sessions.resolve(issued.token) })
  await time('session lookup, prepared statement', N, () => stmtSession.get(issued.id))
  await time('prepare() the session query', N, () => raw.prepare('select * from sessions where id = ?'))
  await time('listPets (precompiled)', N, async () => await listPets(db.kysely))
  await time('pets, prepared statement', N, () => stmtPets.all())
  const pets = stmtPets.all() as Awaited<ReturnType<typeof listPets>>
  const ctx = {
    user: { id: 1, fullName: 'Pet Rescue Team', email: 'team@pawsrescue.co', role: 'staff' as const },
    csrfToken: () => hmac(secretKey, 'csrf-session', issued.id),
    flash: null,
    path: '/'
  }
  await time('form token HMAC', N, () => hmac(secretKey, 'csrf-session', issued.id))
  await time('render the home page (staff)', N, () => HomePage({ ctx, pets }))
  await time('render the home page and encode it (staff)', N, () => Buffer.from(`<!doctype html>${HomePage({ ctx, pets }) as string}`))
  await time('render the home page (anonymous)', N, () => HomePage({ ctx: { ...ctx, user: null }, pets }))
  await db.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
