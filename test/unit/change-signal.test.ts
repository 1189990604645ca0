/** The SQLite change mark: moved by this connection's writes and by other connections' commits. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type SqliteChangeSignal, sqliteChangeSignal, walIndexHeader } from '../../src/db/change-signal.js'

let dir: string
let ours: SqliteDatabase.Database
let theirs: SqliteDatabase.Database
let signal: SqliteChangeSignal

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'paws-signal-'))
  ours = new SqliteDatabase(join(dir, 'x.db'))
  ours.pragma('journal_mode = WAL')
  ours.exec('create table t (v integer)')
  theirs = new SqliteDatabase(join(dir, 'x.db'))
  signal = sqliteChangeSignal(ours)
})
afterEach(() => {
  ours.close()
  signal.close()
  theirs.close()
  rmSync(dir, { recursive: true, force: true })
})

const turn = async (): Promise<void> => { await new Promise((resolve) => { setImmediate(resolve) }) }

describe('sqliteChangeSignal', () => {
  it('stays the same while nobody writes, and reads never move it', async () => {
    const before = await signal.mark()
    ours.prepare('select count(*) from t').get()
    theirs.prepare('select count(*) from t').get()
    signal.refresh()
    expect(await signal.mark()).toBe(before)
  })

  it('moves at once with a write on this connection, committed or not', async () => {
    const before = await signal.mark()
    ours.exec('begin')
    ours.prepare('insert into t values (1)').run()
    expect(await signal.mark()).not.toBe(before)
    ours.exec('rollback')
  })

  it('moves with another connection\'s commit, seen after refresh() (each request begins with it)', async () => {
    const before = await signal.mark()
    theirs.prepare('insert into t values (1)').run()
    signal.refresh()
    expect(await signal.mark()).not.toBe(before)
  })

  it('looks at the others once per turn, after every request of the turn began, for all of them', async () => {
    const before = await signal.mark()
    await turn()
    signal.refresh()
    const first = signal.mark()
    expect(first).toBeInstanceOf(Promise)
    // Another process commits after the first request began and before the second: both marks come from
    // the one look taken at the end of the turn, so both see it.
    theirs.prepare('insert into t values (1)').run()
    signal.refresh()
    const second = signal.mark()
    expect(await first).not.toBe(before)
    expect(await second).toBe(await first)
    // Until the next refresh the look stands, and asking again costs no waiting.
    expect(signal.mark()).toBe(await first)
  })

  it('outside requests, sees another connection\'s commit by the next turn of the event loop', async () => {
    const before = await signal.mark()
    await turn()
    theirs.prepare('insert into t values (1)').run()
    expect(await signal.mark()).not.toBe(before)
  })
})

describe('the WAL-index header', () => {
  const header = (): Buffer => readFileSync(join(dir, 'x.db-shm')).subarray(0, 96)

  it('is read from the -shm file: another connection\'s commit changes it, reads do not', () => {
    const before = walIndexHeader(header())
    expect(before).not.toBeNull()
    theirs.prepare('select count(*) from t').get()
    expect(walIndexHeader(header())).toEqual(before)
    theirs.prepare('insert into t values (1)').run()
    expect(walIndexHeader(header())).not.toEqual(before)
  })

  it('is not trusted when its two copies differ (a commit is writing it: taken as a change) or it is not initialised', () => {
    const torn = Buffer.from(header())
    torn[8]! ^= 1 // the commit counter of the first copy only
    expect(walIndexHeader(torn)).toBeNull()
    const uninitialised = Buffer.from(header())
    uninitialised[12] = 0
    uninitialised[60] = 0
    expect(walIndexHeader(uninitialised)).toBeNull()
    expect(walIndexHeader(Buffer.alloc(96))).toBeNull()
    expect(walIndexHeader(header().subarray(0, 50))).toBeNull()
  })

  it('a database in memory has no header: other connections cannot exist, and the mark still follows our writes', async () => {
    const memory = new SqliteDatabase(':memory:')
    const memorySignal = sqliteChangeSignal(memory)
    memory.exec('create table t (v integer)')
    const before = await memorySignal.mark()
    memory.prepare('insert into t values (1)').run()
    expect(await memorySignal.mark()).not.toBe(before)
    memorySignal.close()
    memory.close()
  })
})
