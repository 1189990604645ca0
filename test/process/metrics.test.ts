/**
 * The metrics listener of the built server: its own port on 127.0.0.1, Prometheus text, never the public
 * port; and in a cluster, one scrape of the primary gives the sum of its workers.
 */
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../helpers/ports.js'
import { parseExposition, sampleKey } from '../helpers/prometheus.js'
import { httpRequest, requireBuild, type ServerProcess, startServer, waitForOutput } from '../helpers/server-process.js'

let dir: string
beforeAll(() => {
  requireBuild()
  dir = mkdtempSync(join(tmpdir(), 'paws-metrics-'))
})
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

async function stop (proc: ServerProcess): Promise<void> {
  proc.child.kill('SIGTERM')
  expect(await proc.exited).toBe(0)
}

const healthzAnswered = (text: string) =>
  parseExposition(text).samples.get(sampleKey('http_request_duration_seconds_count', { method: 'GET', route: '/healthz', status_code: '200' })) ?? 0

describe('metrics listener', () => {
  it('serves /metrics on its own port in the Prometheus format, and the public port does not', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()]
    const proc = startServer({ PORT: String(port), METRICS_PORT: String(metricsPort), DATABASE_URL: join(dir, 'one.db'), LOG_LEVEL: 'info' })
    try {
      await waitForOutput(proc, 'Paws Rescue Center listening on')
      expect(proc.output()).toContain(`metrics at http://127.0.0.1:${metricsPort}/metrics`)
      for (let i = 0; i < 3; i++) expect((await httpRequest(port, '/healthz')).status).toBe(200)
      expect((await httpRequest(port, '/metrics')).status).toBe(404)

      const scrape = await httpRequest(metricsPort, '/metrics')
      expect(scrape.status).toBe(200)
      expect(scrape.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
      expect(healthzAnswered(scrape.body)).toBe(3)
      expect(parseExposition(scrape.body).types.get('nodejs_eventloop_lag_seconds')).toBe('gauge')
      expect((await httpRequest(metricsPort, '/')).status).toBe(404)
      await stop(proc)
    } finally {
      proc.child.kill('SIGKILL')
    }
  })

  it("with WEB_CONCURRENCY=2 the primary's scrape is the sum of both workers", async () => {
    const [port, metricsPort] = [await freePort(), await freePort()]
    const proc = startServer({ PORT: String(port), METRICS_PORT: String(metricsPort), WEB_CONCURRENCY: '2', DATABASE_URL: join(dir, 'cluster.db'), LOG_LEVEL: 'info' })
    try {
      await waitForOutput(proc, 'Paws Rescue Center listening on', 2)
      const pids = new Set<string>()
      const requests = 10
      for (let i = 0; i < requests; i++) {
        expect((await httpRequest(port, '/healthz')).status).toBe(200)
      }
      const scrape = await httpRequest(metricsPort, '/metrics')
      expect(scrape.status).toBe(200)
      expect(healthzAnswered(scrape.body)).toBe(requests)
      // Each worker's access lines are all out once it has stopped, and read once the pipe has ended.
      await stop(proc)
      if (proc.child.stdout?.readableEnded === false) await once(proc.child.stdout, 'end')
      for (const line of proc.output().split('\n')) {
        const match = /"pid":(\d+).*"route":"\/healthz"/.exec(line)
        if (match !== null) pids.add(match[1]!)
      }
      expect(pids.size).toBe(2) // both workers answered some
    } finally {
      proc.child.kill('SIGKILL')
    }
  })
})
