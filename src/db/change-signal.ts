/**
 * "Has anything in the database changed since?", answered exactly and cheaply, for the in-process caches
 * of what every page reads (the session behind a cookie, the pet list).
 *
 * SQLite. The mark follows two sources. Another connection's commit (another process: a cluster worker, a
 * second instance, the CLI) moves the WAL-index header, which SQLite rewrites in the `-shm` file with every
 * commit; `total_changes()` moves with every row this connection writes, committed or not. Any write at all
 * moves the mark, so a cache filled under one mark and used only under the same mark is never older than
 * the last commit anywhere.
 *
 * The header is read with one pread(2) of the file SQLite keeps mapped, without SQLite's locks, the way
 * SQLite's own readers first look at it: the two copies it holds are compared, and a torn read (a commit
 * in the middle of writing them) counts as a change. `PRAGMA data_version` would answer the same but
 * costs a read transaction (two fcntl lock calls); it serves databases without a header (in memory).
 * The format is documented and stable since 3.7.0:
 * https://www.sqlite.org/walformat.html#the_wal_index_file_format. It is read at most once per turn of the
 * event loop, in the turn's check phase: the app calls refresh() when each request begins, and a mark()
 * asked for after that waits for the next read, which every request that began in the same turn shares.
 * That read comes after the poll phase has read every request of the turn, so a commit the visitor could
 * know of (it happened before the request was sent) happened before the read: it is always seen. One
 * pread per turn instead of one per request matters because a system call is the dearest thing a page
 * view does on a virtual machine (decision 0018). Outside requests the value is kept until the end of the
 * current turn at most. total_changes() is read at every mark() (a counter in memory, no lock).
 *
 * PostgreSQL. The mark is the server's current snapshot, `pg_current_snapshot()`: the oldest transaction
 * still running, one past the newest finished one, and those in between still running. Every commit or
 * rollback anywhere on the server changes it, and a reader sees a transaction's rows exactly when its
 * snapshot says that transaction has finished, so two equal readings mean nothing became visible in
 * between. It costs one round trip, made at the first use of a cache in a request (after refresh()) and
 * shared by the rest of that request, instead of one query per cached value; one reading runs at a time,
 * and the requests that begin while it runs share the next. This process's own writes make the next
 * mark() read it again (postgresWriteWatcher in connect.ts).
 * https://www.postgresql.org/docs/current/functions-info.html#FUNCTIONS-PG-SNAPSHOT
 */
import { closeSync, openSync, readSync } from 'node:fs'
import type SqliteDatabase from 'better-sqlite3'

export interface ChangeSignal {
  /** Equal marks mean nothing was written in between, by this process or any other. */
  mark: () => number | Promise<number>
  /** Look at other connections' commits again at the next mark(). Called as each request begins. */
  refresh: () => void
}

export interface SqliteChangeSignal extends ChangeSignal {
  /** Lets go of the `-shm` file; after the connection is closed (closing it earlier would drop SQLite's locks). */
  close: () => void
}

const WAL_INDEX_HEADER_BYTES = 48
const WAL_INDEX_VERSION = 3007000

/**
 * The first copy of the WAL-index header, which changes with every commit (it holds a commit counter, the
 * last frame and their checksums), or null when the two copies differ (read while being written) or the
 * bytes do not hold an initialised header.
 */
export function walIndexHeader (bytes: Buffer): Buffer | null {
  const first = bytes.subarray(0, WAL_INDEX_HEADER_BYTES)
  if (bytes.length < 2 * WAL_INDEX_HEADER_BYTES || !first.equals(bytes.subarray(WAL_INDEX_HEADER_BYTES, 2 * WAL_INDEX_HEADER_BYTES))) return null
  // In the machine's byte order; byte 12 is isInit.
  const knownVersion = first.readUInt32LE(0) === WAL_INDEX_VERSION || first.readUInt32BE(0) === WAL_INDEX_VERSION
  return knownVersion && first[12] === 1 ? first : null
}

/**
 * Reads the WAL-index header of an open connection's database anew on each call; null when this database
 * has none that can be read (in memory, not in WAL mode, or the file does not hold a header SQLite wrote).
 */
function walIndexHeaderReader (database: SqliteDatabase.Database): { read: () => Buffer | null, close: () => void } | null {
  if (database.memory || database.pragma('journal_mode', { simple: true }) !== 'wal') return null
  // SQLite creates the file at the connection's first read, and deletes it when the last connection to the
  // database closes: once this connection has read, the file stays until it is closed.
  database.pragma('data_version')
  let fd: number
  try {
    fd = openSync(`${database.name}-shm`, 'r')
  } catch {
    return null
  }
  const bytes = Buffer.alloc(2 * WAL_INDEX_HEADER_BYTES)
  const read = (): Buffer | null => readSync(fd, bytes, 0, bytes.length, 0) === bytes.length ? walIndexHeader(bytes) : null
  if (read() === null) {
    closeSync(fd)
    return null
  }
  return { read, close: () => { closeSync(fd) } }
}

/**
 * The mark is a counter, moved each time a look at the two sources finds something new: a different
 * header (or the data_version pragma, for a database without one) and a different total_changes(). A
 * header read while a commit is writing it counts as new.
 */
export function sqliteChangeSignal (database: SqliteDatabase.Database): SqliteChangeSignal {
  const dataVersion = database.prepare('PRAGMA data_version').pluck()
  const totalChanges = database.prepare('SELECT total_changes()').pluck()
  const header = walIndexHeaderReader(database)
  const seenHeader = Buffer.alloc(WAL_INDEX_HEADER_BYTES)
  let seenDataVersion = -1
  let seenTotalChanges = -1
  let counter = 0
  let othersSeen = false
  const forget = (): void => { othersSeen = false }
  const lookAtOthers = (): void => {
    if (header === null) {
      const version = dataVersion.get() as number
      if (version !== seenDataVersion) {
        seenDataVersion = version
        counter++
      }
      return
    }
    const current = header.read()
    if (current === null) {
      counter++
    } else if (!current.equals(seenHeader)) {
      current.copy(seenHeader)
      counter++
    }
  }
  const withOwnWrites = (): number => {
    const total = totalChanges.get() as number
    if (total !== seenTotalChanges) {
      seenTotalChanges = total
      counter++
    }
    return counter
  }
  // The look at the others, shared by every mark() asked for since the last one, taken in the check phase
  // of this turn of the event loop: after the poll phase has read every request of the turn.
  let look: Promise<void> | null = null
  const takeLook = (resolve: () => void): void => {
    look = null
    lookAtOthers()
    othersSeen = true
    // Outside requests (no refresh()), the look stands until the next turn at most.
    setImmediate(forget)
    resolve()
  }
  return {
    mark () {
      if (othersSeen) return withOwnWrites()
      look ??= new Promise((resolve) => { setImmediate(takeLook, resolve) })
      return look.then(withOwnWrites)
    },
    refresh: () => { othersSeen = false },
    close: () => { header?.close() }
  }
}

/**
 * How long a snapshot reading may take before it counts as failed. Requests wait for the running reading,
 * so one that never answered (a connection lost without an error) would otherwise hold every later one.
 */
export const SNAPSHOT_READ_TIMEOUT_MS = 5_000

async function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`no answer from the database within ${ms} ms (change mark)`)) }, ms)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The PostgreSQL mark (see the top of this file). `readSnapshot` answers the server's current snapshot as
 * text. One reading serves every mark() until refresh(), which the app calls as each request begins and
 * after each of its own writes. At most one reading runs at a time: a mark() after a refresh() while one
 * is running gets the next reading, which starts once the running one has settled, and every request
 * that begins before it starts shares it. Each answer therefore still comes from a reading started after
 * the caller's refresh(), and under load a reading serves all the requests that arrived during the one
 * before, instead of each request making its own round trip. A failed reading (an error, or no answer
 * within `timeoutMs`) is not kept; the next mark() reads again.
 */
export function postgresChangeSignal (readSnapshot: () => Promise<string>, timeoutMs = SNAPSHOT_READ_TIMEOUT_MS): ChangeSignal {
  let seen: string | null = null
  let counter = 0
  /** The reading that answers mark() now: started since the last refresh(), or queued to start. */
  let current: Promise<number> | null = null
  let currentStarted = false
  let running: Promise<number> | null = null

  const read = (): Promise<number> => {
    const reading = withTimeout(readSnapshot(), timeoutMs).then((snapshot) => {
      if (snapshot !== seen) {
        seen = snapshot
        counter++
      }
      return counter
    })
    running = reading
    const settled = () => { if (running === reading) running = null }
    reading.then(settled, settled)
    return reading
  }

  return {
    mark () {
      if (current !== null) return current
      let reading: Promise<number>
      if (running === null) {
        reading = read()
        currentStarted = true
      } else {
        const after = running.then(() => {}, () => {})
        reading = after.then(() => {
          if (current === reading) currentStarted = true
          return read()
        })
        currentStarted = false
      }
      current = reading
      reading.catch(() => { if (current === reading) current = null })
      return reading
    },
    // A queued reading has not started yet, so it is as fresh as one started now.
    refresh: () => { if (currentStarted) current = null }
  }
}

/**
 * Values loaded from the database and kept while the change mark stays the same: a moved mark empties
 * them all. Undefined (nothing found) is never kept; past `maxEntries` the longest-kept value is let go.
 * Kept values are shared by every caller until the next write: load() should hand out frozen ones.
 */
export function keptWhileUnchanged<T> (changes: ChangeSignal, maxEntries: number): (key: string, load: () => Promise<T>) => Promise<T> {
  const kept = new Map<string, T>()
  let keptMark = -1
  return async (key, load) => {
    const marked = changes.mark()
    const mark = typeof marked === 'number' ? marked : await marked
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
