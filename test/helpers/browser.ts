/**
 * A small browser over Fastify's inject: it keeps cookies as a browser would (honouring Max-Age and
 * clearing), and fills forms the way a user does, with the hidden form token from the page.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'

export interface FormOptions {
  headers?: Record<string, string>
  /** Page to take the form token from before posting; defaults to the form's own page. */
  from?: string
  /** Send exactly this token instead of one read from a page. */
  csrf?: string | null
}

interface StoredCookie { value: string, persistent: boolean }

export class TestBrowser {
  readonly cookies = new Map<string, StoredCookie>()
  lastPage = ''

  constructor (readonly app: FastifyInstance, readonly userAgent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36') {}

  cookieHeader (): string {
    return [...this.cookies].map(([name, c]) => `${name}=${c.value}`).join('; ')
  }

  /** What a browser keeps after it is closed: only persistent cookies survive. */
  restart (): void {
    for (const [name, cookie] of this.cookies) if (!cookie.persistent) this.cookies.delete(name)
  }

  private store (response: LightMyRequestResponse): void {
    for (const c of response.cookies as Array<{ name: string, value: string, maxAge?: number, expires?: Date }>) {
      const expired = (c.maxAge !== undefined && c.maxAge <= 0) || (c.expires !== undefined && c.expires.getTime() <= Date.now()) || c.value === ''
      if (expired) this.cookies.delete(c.name)
      else this.cookies.set(c.name, { value: c.value, persistent: c.maxAge !== undefined || c.expires !== undefined })
    }
  }

  async request (options: InjectOptions): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({
      ...options,
      headers: { 'user-agent': this.userAgent, ...(this.cookies.size > 0 ? { cookie: this.cookieHeader() } : {}), ...options.headers }
    })
    this.store(response)
    if (response.headers['content-type']?.toString().startsWith('text/html') === true) this.lastPage = response.body
    return response
  }

  async get (url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return await this.request({ method: 'GET', url, headers })
  }

  /** Follows a redirect the way a browser does after a POST: GET the Location. */
  async follow (response: LightMyRequestResponse): Promise<LightMyRequestResponse> {
    const location = response.headers.location
    if (typeof location !== 'string') throw new Error(`expected a redirect, got ${response.statusCode}`)
    return await this.get(location)
  }

  async csrfFrom (url: string): Promise<string> {
    const page = await this.get(url)
    return extractCsrf(page.body)
  }

  async post (url: string, fields: Record<string, string | string[]>, options: FormOptions = {}): Promise<LightMyRequestResponse> {
    const token = options.csrf === undefined ? await this.csrfFrom(options.from ?? url.split('?')[0]!) : options.csrf
    const body = new URLSearchParams()
    for (const [name, value] of Object.entries(fields)) {
      for (const v of Array.isArray(value) ? value : [value]) body.append(name, v)
    }
    if (token !== null) body.append('_csrf', token)
    return await this.request({
      method: 'POST',
      url,
      payload: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers }
    })
  }

  async login (email: string, password: string, { remember = false, next }: { remember?: boolean, next?: string } = {}): Promise<LightMyRequestResponse> {
    const url = next === undefined ? '/login' : `/login?next=${encodeURIComponent(next)}`
    return await this.post(url, { email, password, ...(remember ? { remember: 'on' } : {}) }, { from: '/login' })
  }

  async signup (fullName: string, email: string, password: string, confirmPassword = password): Promise<LightMyRequestResponse> {
    return await this.post('/signup', { fullName, email, password, confirmPassword })
  }

  async logout (): Promise<LightMyRequestResponse> {
    return await this.post('/logout', {}, { from: '/logout' })
  }
}

export function extractCsrf (html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html)
  if (match === null) throw new Error('no form token on the page')
  return match[1]!
}

/** The text of the page's one-time message, or null. */
export function flashText (html: string): string | null {
  return /<p class="flash" role="status">([^<]*)<\/p>/.exec(html)?.[1] ?? null
}

export function formErrorText (html: string): string | null {
  return /<p class="form-error" role="alert">([^<]*)<\/p>/.exec(html)?.[1] ?? null
}

export function fieldError (html: string, field: string): string | null {
  return new RegExp(`id="field-${field}-error">([^<]*)</p>`).exec(html)?.[1] ?? null
}

export function fieldValue (html: string, field: string): string | null {
  const input = new RegExp(`<input[^>]*name="${field}"[^>]*>`).exec(html)?.[0]
  if (input === undefined) return null
  return /value="([^"]*)"/.exec(input)?.[1] ?? ''
}

export const DEMO_STAFF = { email: 'team@pawsrescue.co', password: 'adminpass' }
