/**
 * The PostgreSQL change mark's bookkeeping, with the server's snapshot replaced by readings the test
 * answers by hand: one reading per refresh(), one reading at a time (shared by the requests that begin
 * while it waits), a failed reading.
 */
import { describe, expect, it, vi } from 'vitest'
import { postgresChangeSignal } from '../../src/db/change-signal.js'

/** A snapshot source whose readings stay open until the test answers them. */
function manualSnapshots () {
  const pending: Array<{ resolve: (snapshot: string) => void, reject: (error: Error) => void }> = []
  const read = async (): Promise<string> => await new Promise<string>((resolve, reject) => { pending.push({ resolve, reject }) })
  return { read, pending }
}

describe('postgresChangeSignal', () => {
  it('reads the snapshot once until refresh(), and moves only when it differs', async () => {
    const snapshots = manualSnapshots()
    const signal = postgresChangeSignal(snapshots.read)
    const first = signal.mark()
    const same = signal.mark()
    expect(snapshots.pending).toHaveLength(1)
    snapshots.pending[0]!.resolve('10:12:10,11')
    expect(await first).toBe(await same)

    signal.refresh()
    const unchanged = signal.mark()
    snapshots.pending[1]!.resolve('10:12:10,11')
    expect(await unchanged).toBe(await first)

    signal.refresh()
    const moved = signal.mark()
    snapshots.pending[2]!.resolve('11:12:11')
    expect(await moved).not.toBe(await first)
    expect(snapshots.pending).toHaveLength(3)
  })

  it('runs one reading at a time: requests that begin meanwhile share the next, started after it settles', async () => {
    const snapshots = manualSnapshots()
    const signal = postgresChangeSignal(snapshots.read)
    const first = signal.mark()
    // Two requests begin while the first reading runs: neither may use it (it started before them).
    signal.refresh()
    const second = signal.mark()
    signal.refresh()
    const third = signal.mark()
    expect(third).toBe(second)
    await new Promise((resolve) => setImmediate(resolve))
    expect(snapshots.pending).toHaveLength(1) // still only the first: the shared one waits for it

    snapshots.pending[0]!.resolve('10:12:10,11')
    const firstMark = await first
    await new Promise((resolve) => setImmediate(resolve)) // every promise reaction has run
    // The shared reading starts only now, after both requests began.
    expect(snapshots.pending).toHaveLength(2)
    snapshots.pending[1]!.resolve('12:12:')
    const shared = await second
    expect(shared).not.toBe(firstMark)
    expect(await third).toBe(shared)

    // Once it has started, a request that begins gets a reading of its own.
    signal.refresh()
    const fourth = signal.mark()
    expect(fourth).not.toBe(second)
    expect(snapshots.pending).toHaveLength(3)
    snapshots.pending[2]!.resolve('12:12:')
    expect(await fourth).toBe(shared)
  })

  it('does not keep a failed reading: the next mark() reads again', async () => {
    const snapshots = manualSnapshots()
    const signal = postgresChangeSignal(snapshots.read)
    const failed = signal.mark()
    snapshots.pending[0]!.reject(new Error('connection lost'))
    await expect(failed).rejects.toThrow('connection lost')

    const retried = signal.mark()
    expect(snapshots.pending).toHaveLength(2)
    snapshots.pending[1]!.resolve('1:1:')
    expect(typeof await retried).toBe('number')
  })

  it('gives up on a reading that never answers, so the requests queued behind it are not held', async () => {
    vi.useFakeTimers()
    try {
      const snapshots = manualSnapshots()
      const signal = postgresChangeSignal(snapshots.read, 1_000)
      const hung = signal.mark()
      const hungFails = expect(hung).rejects.toThrow('no answer from the database within 1000 ms')
      signal.refresh()
      const queued = signal.mark()
      await vi.advanceTimersByTimeAsync(999)
      expect(snapshots.pending).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(1)
      await hungFails
      // The queued reading starts once the hung one has failed, and answers.
      expect(snapshots.pending).toHaveLength(2)
      snapshots.pending[1]!.resolve('1:1:')
      expect(typeof await queued).toBe('number')
    } finally {
      vi.useRealTimers()
    }
  })
})
