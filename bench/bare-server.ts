/**
 * The limit: a minimal node:http server that answers every request with the same bytes the site sent for
 * the authenticated home page (status, headers, body), prepared once. Whatever the site does beyond this
 * (routing, hooks, the session lookup, rendering) is what the ratio to it measures.
 *
 * Usage: node --import tsx bench/bare-server.ts <response.json> <port>
 */
import { readFileSync } from 'node:fs'
import http from 'node:http'

const [file, port] = process.argv.slice(2)
if (file === undefined || port === undefined) {
  process.stderr.write('usage: bare-server.ts <response.json> <port>\n')
  process.exit(2)
}
const saved = JSON.parse(readFileSync(file, 'utf8')) as { status: number, headers: Array<[string, string]>, body: string }
const body = Buffer.from(saved.body, 'utf8')
const headers = saved.headers.flat()

const server = http.createServer((_request, response) => {
  response.writeHead(saved.status, headers)
  response.end(body)
})
server.keepAliveTimeout = 72_000
server.listen(Number(port), '127.0.0.1')
process.on('SIGTERM', () => { server.close(() => { process.exit(0) }) })
