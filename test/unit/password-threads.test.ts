/** The hashing threads yield to everything else on Linux: nice 19 and the SCHED_IDLE policy. */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createPasswordHasher } from '../../src/auth/passwords.js'

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
