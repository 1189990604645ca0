/**
 * Runs once per `vitest` run, in the main process. After the last test file it removes whatever this run
 * left on the shared servers: PostgreSQL databases and Redis keys whose names start with the run's prefix.
 * Every test removes its own as it ends; this catches what a crashed or interrupted test could not.
 */
import { RUN_PREFIX, deleteRedisKeys, dropPostgresDatabases, postgresProblem, redisProblem } from './database.js'

export async function teardown (): Promise<void> {
  if (await postgresProblem() === null) {
    const dropped = await dropPostgresDatabases(RUN_PREFIX)
    if (dropped.length > 0) process.stdout.write(`[test cleanup] dropped ${dropped.length} leftover PostgreSQL database(s) ${RUN_PREFIX}*\n`)
  }
  if (await redisProblem() === null) {
    const deleted = await deleteRedisKeys(RUN_PREFIX)
    if (deleted > 0) process.stdout.write(`[test cleanup] deleted ${deleted} leftover Redis key(s) ${RUN_PREFIX}*\n`)
  }
}
