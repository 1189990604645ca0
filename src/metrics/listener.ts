/**
 * The operators' port: a plain node:http server, separate from the public app, answering GET /metrics in
 * the Prometheus text format and 404 for anything else. It listens on METRICS_HOST (127.0.0.1 unless
 * told otherwise), so the figures never reach the public side of the proxy.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Scrape {
  contentType: string
  /** The whole exposition, read fresh for each request. */
  read: () => Promise<string>
}

export async function listenForScrapes (where: { host: string, port: number }, scrape: Scrape, onError: (error: unknown) => void): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: the metrics are at /metrics\n')
      return
    }
    scrape.read().then((text) => {
      response.writeHead(200, { 'content-type': scrape.contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : text)
    }, (error: unknown) => {
      onError(error)
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('The metrics could not be collected\n')
    })
  })
  // Scrapes come every few seconds from one Prometheus; keep-alive connections must not hold a shutdown open.
  server.keepAliveTimeout = 1_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(where.port, where.host, () => { server.off('error', reject); resolve() })
  })
  return server
}

export function describeAddress (server: Server): string {
  const { address, port } = server.address() as AddressInfo
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`
}
