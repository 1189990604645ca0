/**
 * A browser in miniature, for the login phases: one keep-alive connection, a cookie jar, and the way a
 * person logs in (GET the form, copy its hidden inputs, POST it). Secure cookies are sent back over the
 * plain loopback connection, as a browser would over the HTTPS the production cookies expect.
 */
import http from 'node:http'

export interface Response {
  status: number
  headers: http.IncomingHttpHeaders
  /** Header names and values as sent, in order: [name, value, name, value, ...]. */
  rawHeaders: string[]
  body: string
}

export interface LoginResult {
  ok: boolean
  status: number
  /** Time of the POST alone: from sending the form to the redirect. */
  postMs: number
  /** Time of GET /login and POST /login together. */
  totalMs: number
}

export class Browser {
  readonly jar = new Map<string, string>()
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

  constructor (readonly origin: string) {}

  async request (method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<Response> {
    const body = form === undefined ? undefined : new URLSearchParams(form).toString()
    const headers: http.OutgoingHttpHeaders = {
      accept: 'text/html',
      'user-agent': 'paws-bench/1 (node:http)'
    }
    if (this.jar.size > 0) headers.cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ')
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      headers['content-length'] = Buffer.byteLength(body)
      headers.origin = this.origin
      headers['sec-fetch-site'] = 'same-origin'
    }
    const response = await new Promise<Response>((resolve, reject) => {
      const req = http.request(`${this.origin}${path}`, { method, headers, agent: this.agent, timeout: 60_000 }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString('utf8') }) })
        res.on('error', reject)
      })
      req.on('timeout', () => { req.destroy(new Error(`${method} ${path}: no answer in 60 s`)) })
      req.on('error', reject)
      req.end(body)
    })
    this.store(response.headers['set-cookie'])
    return response
  }

  private store (setCookies: string[] | undefined): void {
    for (const line of setCookies ?? []) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq < 1) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a))
      if (expired || value === '') this.jar.delete(name)
      else this.jar.set(name, value)
    }
  }

  cookie (name: string): string | undefined {
    for (const [key, value] of this.jar) if (key === name || key === `__Host-${name}`) return value
    return undefined
  }

  forget (name: string): void {
    for (const key of [...this.jar.keys()]) if (key === name || key === `__Host-${name}`) this.jar.delete(key)
  }

  /** GET the form, copy its hidden inputs, fill in the fields, POST it. */
  async submitForm (path: string, fields: Record<string, string>): Promise<{ form: Response, post: Response, postMs: number }> {
    const form = await this.request('GET', path)
    if (form.status !== 200) throw new Error(`GET ${path} answered ${form.status}`)
    const hidden: Record<string, string> = {}
    for (const match of form.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g)) {
      hidden[match[1]!] = decodeEntities(match[2]!)
    }
    if (hidden._csrf === undefined) throw new Error(`GET ${path}: the form has no _csrf hidden input`)
    const started = performance.now()
    const post = await this.request('POST', path, { ...hidden, ...fields })
    return { form, post, postMs: performance.now() - started }
  }

  /**
   * Logs in as a browser does and keeps the session cookie (keepSession) or forgets it, so that the next
   * login starts anonymous again, like a new visitor.
   */
  async login (email: string, password: string, keepSession = false): Promise<LoginResult> {
    const started = performance.now()
    const { post, postMs } = await this.submitForm('/login', { email, password })
    const totalMs = performance.now() - started
    const ok = post.status === 303 && this.cookie('paws_session') !== undefined
    if (!keepSession) {
      this.forget('paws_session')
      this.forget('paws_flash')
    }
    return { ok, status: post.status, postMs, totalMs }
  }

  close (): void {
    this.agent.destroy()
  }
}

function decodeEntities (value: string): string {
  return value.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, entity: string) =>
    ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[entity] ?? '')
}
