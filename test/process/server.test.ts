/**
 * The process shell, as `npm start` runs it (the built server): a bad variable stops the start with a
 * message and exit code 1; SIGTERM lets a request in flight finish, then closes; on the embedded default
 * the PostgreSQL and Redis clients are never loaded.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { holdSocket } from '../helpers/held-socket.js'
import { freePort } from '../helpers/ports.js'
import { requireBuild, startServer, waitForOutput } from '../helpers/server-process.js'

let dir: string
beforeAll(() => {
  requireBuild()
  dir = mkdtempSync(join(tmpdir(), 'paws-process-'))
})
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

const start = startServer

describe('server process', () => {
  it('a bad environment variable stops the start with a message naming it and exit code 1', async () => {
    const proc = start({ PORT: 'not-a-port', DATABASE_URL: join(dir, 'bad.db') })
    expect(await proc.exited).toBe(1)
    expect(proc.output()).toContain('PORT="not-a-port": expected a port number')
    expect(proc.output()).not.toContain('    at ')
  })

  it('serves the pets, and SIGTERM finishes a request in flight before closing', async () => {
    const port = await freePort()
    const proc = start({ PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: join(dir, 'paws.db'), LOG_LEVEL: 'info' })
    try {
      await waitForOutput(proc, 'Paws Rescue Center listening on')
      expect(proc.output()).toContain('"demoDataAdded":true')
      expect(proc.output()).not.toContain('adminpass')

      // A POST whose body has not finished arriving is a request in flight.
      const body = 'email=team%40pawsrescue.co&password=x'
      let status = 0
      const answered = new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) } }, (res) => {
          status = res.statusCode ?? 0
          res.resume()
          res.on('end', resolve)
        })
        req.on('error', reject)
        req.write(body.slice(0, 10))
        waitForOutput(proc, '"url":"/login"').then(() => {
          proc.child.kill('SIGTERM')
          return waitForOutput(proc, 'shutting down')
        }).then(() => { req.end(body.slice(10)) }, reject)
      })
      await answered
      expect(status).toBe(403) // no form token: refused, but answered in full
      expect(await proc.exited).toBe(0)
    } finally {
      proc.child.kill('SIGKILL')
    }
  })

  it('on a socket from systemd, a request made while the server restarts waits in the socket and the next process answers it', async () => {
    const socket = holdSocket()
    const env = { PORT: String(await freePort()), HOST: '127.0.0.1', DATABASE_URL: join(dir, 'activated.db'), LOG_LEVEL: 'info' }
    const get = async (path: string) => await new Promise<{ status: number, body: string }>((resolve, reject) => {
      request({ host: '127.0.0.1', port: socket.port, path, agent: false }, (res) => {
        let body = ''
        res.on('data', (c) => { body += String(c) })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
      }).on('error', reject).end()
    })
    let proc = start(env, socket)
    try {
      await waitForOutput(proc, 'Paws Rescue Center listening on')
      expect(proc.output()).toContain(`:${socket.port}`) // the held socket, not PORT
      expect((await get('/healthz')).status).toBe(200)
      proc.child.kill('SIGTERM')
      expect(await proc.exited).toBe(0)

      // No process is listening now. The socket is still open (held here, as systemd holds it), so the
      // connection is queued rather than refused, and the request waits.
      const waiting = get('/about')
      proc = start(env, socket)
      const res = await waiting
      expect(res.status).toBe(200)
      expect(res.body).toContain('About')
      await waitForOutput(proc, 'Paws Rescue Center listening on')
      proc.child.kill('SIGTERM')
      expect(await proc.exited).toBe(0)
    } finally {
      proc.child.kill('SIGKILL')
      socket.close()
    }
  })

  it('on SQLite without Redis, loads neither the PostgreSQL nor the Redis client', async () => {
    const dist = join(import.meta.dirname, '../../dist/src')
    const script = `
      import { createRequire } from 'node:module'
      const { loadConfig } = await import(${JSON.stringify(pathToFileURL(join(dist, 'config.js')).href)})
      const { buildApp } = await import(${JSON.stringify(pathToFileURL(join(dist, 'app.js')).href)})
      const app = await buildApp(loadConfig({ DATABASE_URL: ${JSON.stringify(join(dir, 'modules.db'))}, LOG_LEVEL: 'silent' }))
      await app.inject('/')
      const loaded = Object.keys(createRequire(${JSON.stringify(pathToFileURL(dist).href + '/')}).cache)
      const count = (name) => loaded.filter((file) => file.includes('/node_modules/' + name + '/')).length
      console.log(JSON.stringify({ pg: count('pg'), ioredis: count('ioredis'), fastify: count('fastify') }))
      await app.close()`
    const file = join(dir, 'modules.mjs')
    writeFileSync(file, script)
    const child = spawn(process.execPath, [file], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'inherit'] })
    let output = ''
    child.stdout.on('data', (c) => { output += String(c) })
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0)
    const counts = JSON.parse(output) as Record<string, number>
    expect(counts.fastify).toBeGreaterThan(0) // the check sees CommonJS packages loaded through import
    expect(counts).toMatchObject({ pg: 0, ioredis: 0 })
  })
})
