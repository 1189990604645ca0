/**
 * The hashing threads yield to everything else: on Linux nice 19 and the SCHED_IDLE policy, and everywhere
 * a rest after each hash while the event loop is busy (decision 0017).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createPasswordHasher, eventLoopBusy } from '../../src/auth/passwords.js'

const SCHED_IDLE = 5

/** Nice value and scheduling policy of each thread of this process, from /proc (fields 19 and 41 of stat). */
function threadPriorities (): Array<{ nice: number, policy: number }> {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return [{ nice: Number(fields[16]), policy: Number(fields[38]) }]
    } catch {
      return [] // the thread ended meanwhile
    }
  })
}

describe.runIf(process.platform === 'linux')('password hashing threads', () => {
  it('run under SCHED_IDLE at nice 19, while the rest of the process keeps its priority', async () => {
    const before = threadPriorities().filter((t) => t.policy === SCHED_IDLE).length
    const hasher = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, { concurrency: 1, queue: 4 })
    try {
      expect(await hasher.verify(await hasher.hash('correct horse battery'), 'correct horse battery')).toBe(true)
      const idle = threadPriorities().filter((t) => t.policy === SCHED_IDLE)
      expect(idle.length).toBe(before + 1)
      expect(idle.every((t) => t.nice === 19)).toBe(true)
      expect(threadPriorities().some((t) => t.policy === 0 && t.nice === 0)).toBe(true)
    } finally {
      await hasher.close?.()
    }
  })
})

const CHEAP = { memoryCost: 1024, timeCost: 1, parallelism: 1 }

describe('password hashing while the event loop is busy', () => {
  it.each([
    // Five jobs: the hash, two checks, and for the unknown account a dummy hash and a check against it.
    { busy: true, rests: 5 },
    { busy: false, rests: 0 }
  ])('rests after every hash only while the loop is busy (busy: $busy), with the same answers', async ({ busy, rests }) => {
    const hasher = createPasswordHasher(CHEAP, { concurrency: 1, queue: 4, loopBusy: () => busy })
    try {
      const stored = await hasher.hash('correct horse battery')
      const answers = await Promise.all([
        hasher.verify(stored, 'correct horse battery'), hasher.verify(stored, 'wrong horse battery'), hasher.verify(null, 'anything at all')
      ])
      expect(answers).toEqual([true, false, false])
      expect(hasher.restsAfterHashes?.()).toBe(rests)
    } finally {
      await hasher.close?.()
    }
  })

  it('counts the event loop as busy when it has worked for most of the interval', () => {
    const busy = eventLoopBusy()
    const until = performance.now() + 30
    while (performance.now() < until) { /* the event loop works */ }
    expect(busy()).toBe(true)
  })
})
