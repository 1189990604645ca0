/**
 * With METRICS_PORT set, every answered request is counted by method, route pattern and status, with its
 * duration. The label is the pattern the router matched (`/pets/:id`), never the URL, which can carry a
 * token or an email; requests that matched no route share one label. Without METRICS_PORT this hook is
 * not added at all.
 */
import type { FastifyInstance } from 'fastify'
// Only metrics.ts as a value: prometheus.ts would load prom-client into every process (src/server.ts loads it).
import { UNMATCHED_ROUTE } from '../metrics/metrics.js'
import type { PrometheusMetrics } from '../metrics/prometheus.js'

const MS_PER_S = 1_000

export function measureRequests (app: FastifyInstance, metrics: PrometheusMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequest(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / MS_PER_S)
    done()
  })
}
