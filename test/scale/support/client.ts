/**
 * A small browser over real sockets (node:http / node:https): it keeps cookies, fills forms with the
 * page's hidden token, never follows redirects, accepts the tests' self-signed certificate, and opens a
 * new connection for every request (so a cluster's workers take turns). It can speak from a chosen
 * loopback address (127.0.0.2, ...) to play clients at different addresses.
 */
import http from 'node:http'
import https from 'node:https'

export interface Response {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
  /** Raw Set-Cookie lines. */
  setCookies: string[]
}

export interface RequestOptions {
  headers?: Record<string, string>
  body?: string
  localAddress?: string
  timeoutMs?: number
}

export async function request (method: string, url: string, options: RequestOptions = {}): Promise<Response> {
  const target = new URL(url)
  const lib = target.protocol === 'https:' ? https : http
  return await new Promise((resolve, reject) => {
    const req = lib.request(target, {
      method,
      agent: false,
      rejectUnauthorized: false,
      headers: {
        connection: 'close',
        ...(options.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(options.body)) } : {}),
        ...options.headers
      },
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {})
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const setCookie = res.headers['set-cookie']
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), setCookies: setCookie ?? [] })
      })
      res.on('error', reject)
    })
    req.setTimeout(options.timeoutMs ?? 20_000, () => { req.destroy(new Error(`timeout: ${method} ${url}`)) })
    req.on('error', reject)
    req.end(options.body)
  })
}

export interface ParsedCookie {
  name: string
  value: string
  attributes: Map<string, string>
}

export function parseSetCookie (line: string): ParsedCookie {
  const [pair = '', ...attrs] = line.split(';').map((p) => p.trim())
  const eq = pair.indexOf('=')
  const attributes = new Map<string, string>()
  for (const a of attrs) {
    const i = a.indexOf('=')
    attributes.set((i === -1 ? a : a.slice(0, i)).toLowerCase(), i === -1 ? '' : a.slice(i + 1))
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes }
}

export function csrfToken (html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html)
  if (match === null) throw new Error(`no form token on the page:\n${html.slice(0, 500)}`)
  return match[1]!
}

export function formError (html: string): string | null {
  return /<p class="form-error" role="alert">([^<]*)<\/p>/.exec(html)?.[1] ?? null
}

export function fieldError (html: string, field: string): string | null {
  return new RegExp(`id="field-${field}-error">([^<]*)</p>`).exec(html)?.[1] ?? null
}

export class Browser {
  readonly cookies = new Map<string, string>()

  /** base: the site's origin, e.g. http://127.0.0.1:3001; the cookie jar goes wherever the browser does. */
  constructor (public base: string, readonly options: { localAddress?: string, headers?: Record<string, string> } = {}) {}

  /** The same cookies, sent to another instance. */
  at (base: string): Browser {
    const other = new Browser(base, this.options)
    for (const [k, v] of this.cookies) other.cookies.set(k, v)
    return other
  }

  adopt (from: Browser): void {
    this.cookies.clear()
    for (const [k, v] of from.cookies) this.cookies.set(k, v)
  }

  async request (method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await request(method, this.base + path, {
      ...options,
      ...(this.options.localAddress !== undefined ? { localAddress: this.options.localAddress } : {}),
      headers: { ...(cookie !== '' ? { cookie } : {}), ...this.options.headers, ...options.headers }
    })
    for (const line of res.setCookies) {
      const c = parseSetCookie(line)
      const maxAge = c.attributes.get('max-age')
      const expires = c.attributes.get('expires')
      const gone = c.value === '' || (maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) <= Date.now())
      if (gone) this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
    return res
  }

  async get (path: string, headers: Record<string, string> = {}): Promise<Response> {
    return await this.request('GET', path, { headers })
  }

  async post (path: string, fields: Record<string, string>, options: { from?: string, headers?: Record<string, string>, csrf?: string } = {}): Promise<Response> {
    const token = options.csrf ?? csrfToken((await this.get(options.from ?? path)).body)
    const body = new URLSearchParams({ ...fields, _csrf: token }).toString()
    return await this.request('POST', path, { body, ...(options.headers !== undefined ? { headers: options.headers } : {}) })
  }

  async login (email: string, password: string, headers?: Record<string, string>): Promise<Response> {
    return await this.post('/login', { email, password }, { ...(headers !== undefined ? { headers } : {}) })
  }

  async signup (fullName: string, email: string, password: string, headers?: Record<string, string>): Promise<Response> {
    return await this.post('/signup', { fullName, email, password, confirmPassword: password }, { ...(headers !== undefined ? { headers } : {}) })
  }

  async logout (): Promise<Response> {
    return await this.post('/logout', {})
  }

  /** True when the page shows a signed-in user (the navbar's account link). */
  async signedIn (): Promise<boolean> {
    const res = await this.get('/')
    if (res.status !== 200) throw new Error(`GET / answered ${res.status}`)
    return res.body.includes('class="nav-user"')
  }
}
