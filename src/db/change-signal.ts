/**
 * "Has anything in the database changed since?", answered exactly and cheaply, for the in-process caches
 * of what every page reads (the session behind a cookie, the pet list). SQLite only.
 *
 * The mark combines two counters. `PRAGMA data_version` moves when any other connection commits: another
 * process (a cluster worker, a second instance, the CLI). `total_changes()` moves with every row this
 * connection writes, committed or not. Any write at all moves the mark, so a cache filled under one mark
 * and used only under the same mark is never older than the last commit anywhere.
 *
 * data_version costs a read transaction (two fcntl lock calls, about as much as a small query), so it is
 * read at most once per request: the app calls refresh() when each request begins, and the value read
 * after that serves the rest of the request. A commit the visitor could know of happened before the
 * request was sent, so before the read: it is always seen. Outside requests the value is kept until the
 * end of the current turn of the event loop at most. total_changes() is read every time (a counter in
 * memory, no lock).
 */
import type SqliteDatabase from 'better-sqlite3'

export interface ChangeSignal {
  /** Equal marks mean nothing was written in between, by this process or any other. */
  mark: () => string
  /** Forget the remembered data_version: the next mark() reads it again. Called as each request begins. */
  refresh: () => void
}

export function sqliteChangeSignal (database: SqliteDatabase.Database): ChangeSignal {
  const dataVersion = database.prepare('PRAGMA data_version').pluck()
  const totalChanges = database.prepare('SELECT total_changes()').pluck()
  let version: number | null = null
  let forgetScheduled = false
  const forget = (): void => {
    version = null
    forgetScheduled = false
  }
  return {
    mark () {
      if (version === null) {
        version = dataVersion.get() as number
        if (!forgetScheduled) {
          forgetScheduled = true
          setImmediate(forget)
        }
      }
      return `${version}:${totalChanges.get() as number}`
    },
    refresh: () => { version = null }
  }
}

/**
 * Values loaded from the database and kept while the change mark stays the same: a moved mark empties
 * them all. With no signal (PostgreSQL) nothing is kept and every call loads. Undefined (nothing found)
 * is never kept; past `maxEntries` the longest-kept value is let go. Kept values are shared by every
 * caller until the next write: load() should hand out frozen ones.
 */
export function keptWhileUnchanged<T> (changes: ChangeSignal | null, maxEntries: number): (key: string, load: () => Promise<T>) => Promise<T> {
  if (changes === null) return async (_key, load) => await load()
  const kept = new Map<string, T>()
  let keptMark = ''
  return async (key, load) => {
    const mark = changes.mark()
    if (mark !== keptMark) {
      kept.clear()
      keptMark = mark
    }
    if (kept.has(key)) return kept.get(key)!
    // The mark is taken before loading: a write landing meanwhile moves it, and the next call loads again.
    const value = await load()
    if (value === undefined || keptMark !== mark) return value
    if (kept.size >= maxEntries) kept.delete(kept.keys().next().value!)
    kept.set(key, value)
    return value
  }
}
