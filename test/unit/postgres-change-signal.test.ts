/**
 * The PostgreSQL change mark's bookkeeping, with the server's snapshot replaced by readings the test
 * answers by hand: one reading per refresh(), readings answered out of order, a failed reading.
 */
import { describe, expect, it } from 'vitest'
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

  it('never steps back to an older snapshot when readings come back out of order', async () => {
    const snapshots = manualSnapshots()
    const signal = postgresChangeSignal(snapshots.read)
    const older = signal.mark()
    signal.refresh()
    const newer = signal.mark()
    snapshots.pending[1]!.resolve('new')
    const newMark = await newer
    snapshots.pending[0]!.resolve('old')
    expect(await older).toBe(newMark)

    signal.refresh()
    const again = signal.mark()
    snapshots.pending[2]!.resolve('new')
    expect(await again).toBe(newMark)
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
})
