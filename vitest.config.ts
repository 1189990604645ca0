/**
 * One run, several projects: unit tests and browser tests once; the integration suite once per database
 * (SQLite always, PostgreSQL whenever it answers); the scale tests (several app processes, PostgreSQL,
 * Redis, nginx) last, alone. Without CI=true a missing PostgreSQL or Redis skips what needs it, with a
 * printed note; with CI=true it fails the run.
 */
import { existsSync } from 'node:fs'
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config'
import { TEST_DATABASE_URL, TEST_REDIS_URL, TEST_RUN_ID, postgresProblem, redisProblem } from './test/helpers/database.js'

const NGINX = process.env.NGINX_BINARY ?? '/usr/sbin/nginx'
const INTEGRATION = ['test/integration/**/*.test.{ts,tsx}']
const E2E = ['test/e2e/**/*.test.{ts,tsx}']
const SCALE = ['test/scale/**/*.test.{ts,tsx}']

/** Asked once per run: Vitest evaluates this file again for each project. */
async function serviceProblems (): Promise<[string | null, string | null]> {
  const cached = process.env.PAWS_TEST_SERVICES
  if (cached !== undefined) return JSON.parse(cached) as [string | null, string | null]
  const found = await Promise.all([postgresProblem(), redisProblem()])
  process.env.PAWS_TEST_SERVICES = JSON.stringify(found)
  return found
}

export default defineConfig(async () => {
  const ci = process.env.CI === 'true'
  const firstLook = process.env.PAWS_TEST_SERVICES === undefined
  const [pgProblem, rdProblem] = await serviceProblems()
  const missing: string[] = []
  if (pgProblem !== null) missing.push(`PostgreSQL at ${TEST_DATABASE_URL} does not answer (${pgProblem}); set TEST_DATABASE_URL`)
  if (rdProblem !== null) missing.push(`Redis at ${TEST_REDIS_URL} does not answer (${rdProblem}); set TEST_REDIS_URL`)
  if (!existsSync(NGINX)) missing.push(`nginx is not installed at ${NGINX} (apt-get install nginx, or set NGINX_BINARY)`)
  if (missing.length > 0) {
    if (ci) throw new Error(`CI=true requires every service the tests use:\n  - ${missing.join('\n  - ')}`)
    const skipped = [pgProblem !== null ? 'the PostgreSQL integration run' : '', 'the scale tests'].filter(Boolean).join(' and ')
    if (firstLook) process.stdout.write(`\nNOTE: skipping ${skipped}:\n  - ${missing.join('\n  - ')}\n(with CI=true this fails the run instead)\n\n`)
  }

  const projects: TestProjectInlineConfiguration[] = [
    { extends: true, test: { name: 'unit', include: ['test/**/*.test.{ts,tsx}'], exclude: [...configDefaults.exclude, ...INTEGRATION, ...E2E, ...SCALE] } },
    { extends: true, test: { name: 'sqlite', include: INTEGRATION, env: { TEST_DB: 'sqlite' } } },
    { extends: true, test: { name: 'e2e', include: E2E } }
  ]
  if (pgProblem === null) {
    projects.push({ extends: true, test: { name: 'postgres', include: INTEGRATION, env: { TEST_DB: 'postgres', TEST_DATABASE_URL } } })
  }
  if (missing.length === 0) {
    projects.push({
      extends: true,
      test: {
        name: 'scale',
        include: SCALE,
        env: { TEST_DATABASE_URL, TEST_REDIS_URL, NGINX_BINARY: NGINX },
        globalSetup: ['test/scale/support/build.ts'],
        // These start real processes and measure what survives them: alone, after everything else.
        fileParallelism: false,
        sequence: { groupOrder: 1 },
        testTimeout: 60_000
      }
    })
  }

  return {
    test: {
      testTimeout: 30_000,
      hookTimeout: 60_000,
      pool: 'forks',
      // In CI the counts are also written as JSON, for .ci/run's closing summary line.
      reporters: ci ? ['default', ['json', { outputFile: 'test-results/vitest.json' }] as [string, { outputFile: string }]] : ['default'],
      passWithNoTests: true,
      globalSetup: ['test/helpers/global-setup.ts'],
      env: { PAWS_TEST_RUN: TEST_RUN_ID },
      projects
    }
  }
})
