/**
 * Operator commands: migrate the database, create a staff account (password read at a hidden prompt, or
 * from stdin when it is not a terminal), change roles, list and revoke sessions. Each prints what it did
 * and exits non-zero with a clear message on bad input.
 */
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { createPasswordHasher } from '../auth/passwords.js'
import { isSessionLive } from '../auth/sessions.js'
import { type Config, ConfigError, loadConfig } from '../config.js'
import { connect, type Db, isUniqueViolation } from '../db/connect.js'
import { migrateToLatest } from '../db/migrate.js'
import { recordEvent } from '../db/queries/events.js'
import { deleteUserSessions, listUserSessions } from '../db/queries/sessions.js'
import { findUserByEmail, insertUser } from '../db/queries/users.js'
import { changeRole as changeAccountRole } from '../auth/people.js'
import type { Role } from '../db/schema.js'
import { emailField, newPasswordField, text } from '../http/forms.js'
import { describeDevice, formatDateTime } from '../views/format.js'
import { readPassword, type Io } from './io.js'
import { z } from 'zod'
import { latestMessages } from '../db/queries/outbox.js'
import { linksIn } from '../mail/transport.js'
import { resetTwoFactor } from '../auth/two-factor.js'

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  migrate                              apply pending database migrations
  create-staff --email E --name N      create a staff account; the password is read at a hidden
                                       prompt, or from standard input when it is not a terminal
  promote E                            make the account with email E staff
  demote E                             make the account with email E an adopter
  sessions E                           list the active sessions of the account with email E
  revoke E                             end every session of the account with email E
  two-factor-reset E                   turn off two-factor authentication for the account with email E
                                       (it lost its phone and its recovery codes); the account is told
  mail [--limit N]                     list the latest emails (newest first) with their links; without
                                       SMTP_URL (development) their bodies are kept, so the links show
`

class CliError extends Error {}

/** The operator at the CLI: no staff account acts, and the history shows ip 'cli'. */
const OPERATOR = { id: null, ip: 'cli', userAgent: 'paws cli' }

async function accountByEmail (db: Db, raw: string | undefined) {
  const email = emailField.safeParse(raw ?? '')
  if (!email.success) throw new CliError(`Expected an email address, got ${JSON.stringify(raw ?? '')}.`)
  const user = await findUserByEmail(db.kysely, email.data)
  if (user === undefined) throw new CliError(`No account has the email ${email.data}.`)
  return user
}

/** The team's rule holds here too: the last staff account that can log in is not demoted. */
async function changeRole (db: Db, raw: string | undefined, role: Role, io: Io): Promise<void> {
  const user = await accountByEmail(db, raw)
  const outcome = await changeAccountRole({ db, clock: Date.now }, OPERATOR, user.id, role)
  if (outcome === 'unchanged') {
    io.stdout.write(`${user.email} is already ${role}; nothing changed.\n`)
    return
  }
  if (outcome === 'last-staff') throw new CliError(`${user.email} is the last staff account that can log in; make someone else staff first.`)
  if (outcome !== 'done') throw new CliError(`${user.email}: not changed (${outcome}).`)
  io.stdout.write(`${user.email} is now ${role}.\n`)
}

async function createStaff (db: Db, config: Config, args: string[], io: Io): Promise<void> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' }, name: { type: 'string' } }, strict: true })
  const email = emailField.safeParse(values.email ?? '')
  if (!email.success) throw new CliError(`--email: ${email.error.issues[0]?.message ?? 'expected an email address'}`)
  const name = text('Name').trim().min(1).max(100).safeParse(values.name ?? '')
  if (!name.success) throw new CliError('--name: expected a name of 1 to 100 characters.')
  if (await findUserByEmail(db.kysely, email.data) !== undefined) throw new CliError(`An account with the email ${email.data} already exists. Use "promote ${email.data}" to make it staff.`)
  const password = newPasswordField.safeParse(await readPassword(io, 'Password for the new staff account: '))
  if (!password.success) throw new CliError(`Password: ${password.error.issues[0]?.message ?? 'not acceptable'}`)
  const hasher = createPasswordHasher(config.passwords.argon2, { concurrency: 1, queue: 1 })
  try {
    const user = await insertUser(db.kysely, { email: email.data, full_name: name.data, password_hash: await hasher.hash(password.data), role: 'staff', created_at: Date.now(), email_verified_at: Date.now() })
    io.stdout.write(`Created staff account ${user.email} (${user.full_name}).\n`)
  } catch (error) {
    if (isUniqueViolation(error)) throw new CliError(`An account with the email ${email.data} already exists.`)
    throw error
  }
}

const MAIL_LIST_DEFAULT = 10

async function listMail (db: Db, args: string[], io: Io): Promise<void> {
  const { values } = parseArgs({ args, options: { limit: { type: 'string' } }, strict: true })
  const limit = z.coerce.number().int().min(1).max(1000).safeParse(values.limit ?? MAIL_LIST_DEFAULT)
  if (!limit.success) throw new CliError('--limit: expected a whole number from 1 to 1000.')
  const messages = await latestMessages(db.kysely, limit.data)
  if (messages.length === 0) io.stdout.write('No emails yet.\n')
  for (const m of messages) {
    const state = m.sent_at !== null ? `sent ${formatDateTime(m.sent_at)}` : m.failed_at !== null ? `failed ${formatDateTime(m.failed_at)}: ${m.last_error ?? ''}` : `waiting (${m.attempts} attempt${m.attempts === 1 ? '' : 's'})`
    io.stdout.write(`#${m.id}  ${formatDateTime(m.created_at)}  to ${m.recipient}\n  ${m.subject}\n  ${state}\n`)
    for (const link of linksIn(m.text_body)) io.stdout.write(`  ${link}\n`)
  }
}

export async function runCli (argv: string[], io: Io, env: Record<string, string | undefined>): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help') {
    io.stdout.write(USAGE)
    return command === undefined ? 2 : 0
  }
  let config: Config
  try {
    config = loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`)
      return 1
    }
    throw error
  }
  const db = connect(config.database)
  try {
    await migrateToLatest(db)
    switch (command) {
      case 'migrate':
        io.stdout.write('The database is up to date.\n')
        break
      case 'create-staff':
        await createStaff(db, config, rest, io)
        break
      case 'promote':
        await changeRole(db, rest[0], 'staff', io)
        break
      case 'demote':
        await changeRole(db, rest[0], 'adopter', io)
        break
      case 'sessions': {
        const user = await accountByEmail(db, rest[0])
        const now = Date.now()
        const rows = (await listUserSessions(db.kysely, user.id)).filter((s) => isSessionLive(s, now, config.session))
        if (rows.length === 0) io.stdout.write(`${user.email} has no active sessions.\n`)
        for (const s of rows) {
          io.stdout.write(`${describeDevice(s.user_agent)}  ${s.ip}  last seen ${formatDateTime(s.last_seen_at)}  ${s.remember === 1 ? 'remembered' : ''}\n`)
        }
        break
      }
      case 'two-factor-reset': {
        const user = await accountByEmail(db, rest[0])
        if (user.two_factor_enabled_at === null) {
          io.stdout.write(`${user.email} does not use two-factor authentication; nothing changed.\n`)
          break
        }
        await resetTwoFactor({ db, clock: Date.now, config, outbox: { kick: () => {} } }, user, OPERATOR)
        io.stdout.write(`Two-factor authentication is off for ${user.email}; a notice is on its way to that address.\n`)
        break
      }
      case 'mail':
        await listMail(db, rest, io)
        break
      case 'revoke': {
        const user = await accountByEmail(db, rest[0])
        const ended = await deleteUserSessions(db.kysely, user.id)
        await recordEvent(db.kysely, user.id, 'sessions_revoked', { ...OPERATOR, now: Date.now() })
        io.stdout.write(`Ended ${ended} session${ended === 1 ? '' : 's'} of ${user.email}.\n`)
        break
      }
      default:
        throw new CliError(`Unknown command ${JSON.stringify(command)}.\n\n${USAGE}`)
    }
    return 0
  } catch (error) {
    if (error instanceof CliError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`${error.message}\n`)
      return 1
    }
    throw error
  } finally {
    await db.close()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, process.env)
    .then((code) => { process.exitCode = code }, (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
      process.exitCode = 1
    })
}
