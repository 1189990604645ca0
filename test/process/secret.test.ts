/**
 * The built server without SECRET_KEY, as a developer or a small install runs it: forms survive a restart
 * and every worker of a cluster accepts every other's forms, because the key is kept with the data.
 * Production still refuses to start without SECRET_KEY.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { extractCsrf } from '../helpers/browser.js'
import { freePort } from '../helpers/ports.js'
import { httpRequest, requireBuild, type ServerProcess, startServer, waitForOutput } from '../helpers/server-process.js'

let dir: string
beforeAll(() => {
  requireBuild()
  dir = mkdtempSync(join(tmpdir(), 'paws-secret-'))
})
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

interface OpenForm { cookie: string, token: string }

async function openLoginForm (port: number): Promise<OpenForm> {
  const page = await httpRequest(port, '/login')
  const setCookie = [page.headers['set-cookie'] ?? []].flat()
  return { cookie: setCookie.map((c) => c.split(';')[0]!).join('; '), token: extractCsrf(page.body) }
}

async function postLogin (port: number, form: OpenForm, email: string, password: string): Promise<number> {
  const body = new URLSearchParams({ email, password, _csrf: form.token }).toString()
  const res = await httpRequest(port, '/login', { method: 'POST', body, headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' } })
  return res.status
}

async function stop (proc: ServerProcess): Promise<void> {
  proc.child.kill('SIGTERM')
  expect(await proc.exited).toBe(0)
}

describe('without SECRET_KEY', () => {
  it('a restart between GET /login and POST /login does not expire the form', async () => {
    const env = { PORT: String(await freePort()), DATABASE_URL: join(dir, 'restart.db'), LOG_LEVEL: 'info' }
    let proc = startServer(env)
    try {
      await waitForOutput(proc, 'Paws Rescue Center listening on')
      const form = await openLoginForm(Number(env.PORT))
      await stop(proc)
      proc = startServer(env)
      await waitForOutput(proc, 'Paws Rescue Center listening on')
      expect(await postLogin(Number(env.PORT), form, 'team@pawsrescue.co', 'adminpass')).toBe(303)
      await stop(proc)
    } finally {
      proc.child.kill('SIGKILL')
    }
  })

  it("the workers of a cluster, started together, accept each other's forms", async () => {
    const port = await freePort()
    const proc = startServer({ PORT: String(port), WEB_CONCURRENCY: '2', DATABASE_URL: join(dir, 'cluster.db'), LOG_LEVEL: 'info' })
    try {
      await waitForOutput(proc, 'Paws Rescue Center listening on', 2)
      // Each request on a connection of its own: the primary hands them to the workers in turn.
      const statuses: number[] = []
      for (let i = 0; i < 4; i++) statuses.push(await postLogin(port, await openLoginForm(port), `nobody${i}@example.com`, 'wrong password'))
      expect(statuses).toEqual([401, 401, 401, 401])
      await stop(proc)
    } finally {
      proc.child.kill('SIGKILL')
    }
  })
})

describe('in production', () => {
  it('SECRET_KEY is still required: the start stops with a message and exit code 1', async () => {
    const proc = startServer({ NODE_ENV: 'production', DATABASE_URL: join(dir, 'production.db') })
    expect(await proc.exited).toBe(1)
    expect(proc.output()).toContain('SECRET_KEY: required when NODE_ENV=production')
  })
})
