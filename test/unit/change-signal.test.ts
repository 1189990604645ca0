/** The SQLite change mark: moved by this connection's writes and by other connections' commits. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ChangeSignal, sqliteChangeSignal } from '../../src/db/change-signal.js'

let dir: string
let ours: SqliteDatabase.Database
let theirs: SqliteDatabase.Database
let signal: ChangeSignal

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
  theirs.close()
  rmSync(dir, { recursive: true, force: true })
})

const turn = async (): Promise<void> => { await new Promise((resolve) => { setImmediate(resolve) }) }

describe('sqliteChangeSignal', () => {
  it('stays the same while nobody writes, and reads never move it', () => {
    const before = signal.mark()
    ours.prepare('select count(*) from t').get()
    theirs.prepare('select count(*) from t').get()
    signal.refresh()
    expect(signal.mark()).toBe(before)
  })

  it('moves at once with a write on this connection, committed or not', () => {
    const before = signal.mark()
    ours.exec('begin')
    ours.prepare('insert into t values (1)').run()
    expect(signal.mark()).not.toBe(before)
    ours.exec('rollback')
  })

  it('moves with another connection\'s commit, seen after refresh() (each request begins with it)', () => {
    const before = signal.mark()
    theirs.prepare('insert into t values (1)').run()
    signal.refresh()
    expect(signal.mark()).not.toBe(before)
  })

  it('outside requests, sees another connection\'s commit by the next turn of the event loop', async () => {
    const before = signal.mark()
    await turn()
    theirs.prepare('insert into t values (1)').run()
    expect(signal.mark()).not.toBe(before)
  })
})
