/**
 * The process shell, as `npm start` runs it (the built server): a bad variable stops the start with a
 * message and exit code 1; SIGTERM lets a request in flight finish, then closes; on the embedded default
 * the PostgreSQL and Redis clients are never loaded.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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
    // At debug the server says when a request has arrived (its "incoming request" line, written within a second).
    const proc = start({ PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: join(dir, 'paws.db'), LOG_LEVEL: 'debug' })
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

  it('at start and for a page view, loads only what a visitor needs: no PostgreSQL or Redis client on SQLite, no metrics, mail, passkey or QR code library', async () => {
    const dist = join(import.meta.dirname, '../../dist/src')
    // Every module the process resolves, CommonJS or ESM, is written to a file by a resolve hook.
    const resolvedFile = join(dir, 'resolved.txt')
    const hooks = join(dir, 'record-hooks.mjs')
    writeFileSync(hooks, `
      import { appendFileSync } from 'node:fs'
      export async function resolve (specifier, context, next) {
        const result = await next(specifier, context)
        appendFileSync(${JSON.stringify(resolvedFile)}, result.url + '\\n')
        return result
      }`)
    const script = `
      import { register } from 'node:module'
      register(${JSON.stringify(pathToFileURL(hooks).href)})
      const { loadConfig } = await import(${JSON.stringify(pathToFileURL(join(dist, 'config.js')).href)})
      const { buildApp } = await import(${JSON.stringify(pathToFileURL(join(dist, 'app.js')).href)})
      const app = await buildApp(loadConfig({ DATABASE_URL: ${JSON.stringify(join(dir, 'modules.db'))}, LOG_LEVEL: 'silent', SMTP_URL: 'smtp://127.0.0.1:9' }))
      const page = await app.inject('/')
      if (page.statusCode !== 200) throw new Error('the home page answered ' + page.statusCode)
      await app.close()`
    const file = join(dir, 'modules.mjs')
    writeFileSync(file, script)
    const child = spawn(process.execPath, [file], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'inherit', 'inherit'] })
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0)
    const resolved = readFileSync(resolvedFile, 'utf8').split('\n')
    const count = (name: string) => resolved.filter((url) => url.includes(`/node_modules/${name}/`)).length
    expect(count('fastify')).toBeGreaterThan(0) // the hook sees packages, CommonJS ones included
    expect(count('pino')).toBeGreaterThan(0)
    expect(Object.fromEntries(['pg', 'ioredis', 'prom-client', 'nodemailer', '@simplewebauthn/server', 'qrcode'].map((name) => [name, count(name)])))
      .toEqual({ pg: 0, ioredis: 0, 'prom-client': 0, nodemailer: 0, '@simplewebauthn/server': 0, qrcode: 0 })
  })
})
