/**
 * Password hashing with argon2id, off the event loop, behind admission control: at most
 * `concurrency` hashes run at once and at most `queue` wait; past that the caller is told to come back
 * later (HasherBusyError), so a login storm cannot take every core from page views.
 */
import { hash, parseOptions, verify } from '@node-rs/argon2'
import type { Argon2Params } from '../config.js'

/** Argon2id's number in @node-rs/argon2's Algorithm enum (a const enum, not importable as a value). */
const ARGON2ID = 2

export class HasherBusyError extends Error {
  readonly retryAfterSeconds = 2
  constructor () {
    super('Too many password checks are in progress')
    this.name = 'HasherBusyError'
  }
}

export interface PasswordHasher {
  hash: (password: string) => Promise<string>
  /** Verifies against the stored hash; with `null` it spends the same time on a dummy hash and fails. */
  verify: (storedHash: string | null, password: string) => Promise<boolean>
  needsRehash: (storedHash: string) => boolean
}

export function createPasswordHasher (params: Argon2Params, limits: { concurrency: number, queue: number }): PasswordHasher {
  const options = { memoryCost: params.memoryCost, timeCost: params.timeCost, parallelism: params.parallelism }
  const gate = createGate(limits.concurrency, limits.queue)
  let dummyHash: Promise<string> | undefined

  return {
    hash: async (password) => await gate(async () => await hash(password, options)),
    verify: async (storedHash, password) => {
      if (storedHash === null) {
        dummyHash ??= hash('dummy password for unknown accounts', options)
        const dummy = await dummyHash
        await gate(async () => await verify(dummy, password))
        return false
      }
      return await gate(async () => {
        try {
          return await verify(storedHash, password)
        } catch {
          return false
        }
      })
    },
    needsRehash: (storedHash) => {
      try {
        const parsed = parseOptions(storedHash)
        return Number(parsed.algorithm) !== ARGON2ID ||
          parsed.memoryCost < params.memoryCost ||
          parsed.timeCost < params.timeCost ||
          parsed.parallelism < params.parallelism
      } catch {
        return true
      }
    }
  }
}

/** A counting semaphore with a bounded waiting line. */
function createGate (concurrency: number, maxWaiting: number) {
  let running = 0
  const waiting: Array<() => void> = []
  const release = () => {
    const next = waiting.shift()
    if (next === undefined) running--
    else next()
  }
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running < concurrency) running++
    else if (waiting.length < maxWaiting) await new Promise<void>((resolve) => waiting.push(resolve))
    else throw new HasherBusyError()
    try {
      return await task()
    } finally {
      release()
    }
  }
}
