/** Configuration is read once, every problem is reported together, and the result is frozen. */
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'

function problems (env: Record<string, string>, ownPid = process.pid): string[] {
  try {
    loadConfig(env, '/srv/paws', ownPid)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

describe('loadConfig', () => {
  it('defaults: development on 127.0.0.1:3000 with SQLite at data/paws.db and the documented session timeouts', () => {
    const config = loadConfig({}, '/srv/paws')
    expect(config).toMatchObject({
      env: 'development',
      host: '127.0.0.1',
      port: 3000,
      seedDemoData: true,
      trustProxy: false,
      redis: null,
      database: { kind: 'sqlite', file: '/srv/paws/data/paws.db' },
      session: { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 12 * 3_600_000, rememberIdleTimeoutMs: 14 * 86_400_000, rememberAbsoluteTimeoutMs: 30 * 86_400_000, secureCookie: false },
      throttle: { loginMaxFailures: 5, loginFailuresPerIpPerMinute: 20, signupsPerIpPerHour: 10 },
      passwords: { argon2: { memoryCost: 19_456, timeCost: 2, parallelism: 1 } }
    })
  })

  it('is frozen, all the way down', () => {
    const config = loadConfig({}, '/srv/paws')
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.session)).toBe(true)
    expect(() => { (config.session as { idleTimeoutMs: number }).idleTimeoutMs = 1 }).toThrow()
  })

  it.each([
    ['data/other.db', '/srv/paws/data/other.db'],
    ['/var/lib/paws.db', '/var/lib/paws.db'],
    ['sqlite:data/x.db', '/srv/paws/data/x.db'],
    ['sqlite:///var/lib/x.db', '/var/lib/x.db'],
    ['file:/var/lib/y.db', '/var/lib/y.db'],
    ['file:///var/lib/z.db', '/var/lib/z.db']
  ])('DATABASE_URL=%s is the SQLite file %s', (url, file) => {
    expect(loadConfig({ DATABASE_URL: url }, '/srv/paws').database).toEqual({ kind: 'sqlite', file })
  })

  it('DATABASE_URL=postgres://… selects PostgreSQL with the pool size', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/paws', DATABASE_POOL_SIZE: '4' }).database).toEqual({ kind: 'postgres', url: 'postgres://u:p@db:5432/paws', poolSize: 4 })
  })

  it('production requires SECRET_KEY, PUBLIC_URL and SMTP_URL, adds no demo data, and makes cookies Secure', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual([
      expect.stringContaining('SECRET_KEY: required when NODE_ENV=production'),
      expect.stringContaining('PUBLIC_URL: required when NODE_ENV=production'),
      expect.stringContaining('SMTP_URL: required when NODE_ENV=production')
    ])
    const config = loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'k'.repeat(40), PUBLIC_URL: 'https://paws.example.org', SMTP_URL: 'smtp://mail.example.org:587' })
    expect(config.seedDemoData).toBe(false)
    expect(config.session.secureCookie).toBe(true)
  })

  it('PUBLIC_URL is an http(s) origin; it defaults to HOST and PORT, and names the default sender', () => {
    expect(loadConfig({}).publicUrl).toBe('http://127.0.0.1:3000')
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).publicUrl).toBe('http://localhost:8080')
    expect(loadConfig({ PUBLIC_URL: 'https://Paws.Example.org/' }).publicUrl).toBe('https://paws.example.org')
    expect(loadConfig({ PUBLIC_URL: 'https://paws.example.org' }).mail.from).toBe('Paws Rescue Center <no-reply@paws.example.org>')
    expect(loadConfig({}).mail.from).toBe('Paws Rescue Center <no-reply@localhost>')
    for (const bad of ['paws.example.org', 'ftp://paws.example.org', 'https://paws.example.org/app', 'https://u:p@paws.example.org', 'https://paws.example.org/?x=1']) {
      expect(problems({ PUBLIC_URL: bad })).toEqual([expect.stringContaining('PUBLIC_URL=')])
    }
  })

  it('SMTP_URL is smtp:// or smtps:// with a host; MAIL_FROM is one line with an address', () => {
    expect(loadConfig({ SMTP_URL: 'smtp://user:pass@mail.example.org:587' }).mail.smtpUrl).toBe('smtp://user:pass@mail.example.org:587')
    expect(loadConfig({}).mail.smtpUrl).toBeNull()
    for (const bad of ['http://mail.example.org', 'smtp://', 'mail.example.org:25', 'smtp://mail.example.org/path']) {
      expect(problems({ SMTP_URL: bad })).toEqual([expect.stringContaining('SMTP_URL=')])
    }
    expect(problems({ MAIL_FROM: 'Paws\r\nBcc: x@example.org' })).toEqual([expect.stringContaining('MAIL_FROM=')])
    expect(problems({ MAIL_FROM: 'no address here' })).toEqual([expect.stringContaining('MAIL_FROM=')])
  })

  it('TRUST_PROXY makes cookies Secure and accepts true, a hop count or addresses', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).session.secureCookie).toBe(true)
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1)
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1,10.0.0.0/8' }).trustProxy).toBe('127.0.0.1,10.0.0.0/8')
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false)
  })

  it('every invalid variable is reported at once, naming it and what it expects', () => {
    const found = problems({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', SESSION_IDLE_TIMEOUT_MINUTES: '-3', REDIS_URL: 'http://x', TRUST_PROXY: 'sometimes' })
    expect(found.join('\n')).toMatch(/PORT="eighty": expected a port number/)
    expect(found.join('\n')).toMatch(/LOG_LEVEL="loud": expected one of/)
    expect(found.join('\n')).toMatch(/SESSION_IDLE_TIMEOUT_MINUTES="-3": expected a whole number of minutes/)
    expect(found.join('\n')).toMatch(/REDIS_URL="http:\/\/x": expected a redis/)
    expect(problems({ DATABASE_URL: 'mysql://x' })).toEqual([expect.stringMatching(/^DATABASE_URL="mysql:\/\/x": expected a file path/)])
    expect(problems({ TRUST_PROXY: 'sometimes' })).toEqual([expect.stringMatching(/^TRUST_PROXY="sometimes"/)])
  })

  it('an idle timeout longer than the absolute lifetime is refused', () => {
    expect(problems({ SESSION_IDLE_TIMEOUT_MINUTES: '800', SESSION_ABSOLUTE_TIMEOUT_HOURS: '12' })).toEqual([expect.stringContaining('SESSION_IDLE_TIMEOUT_MINUTES')])
    expect(problems({ REMEMBER_IDLE_TIMEOUT_DAYS: '40' })).toEqual([expect.stringContaining('REMEMBER_IDLE_TIMEOUT_DAYS')])
  })

  it('empty variables count as unset', () => {
    expect(loadConfig({ PORT: '', REDIS_URL: '' }).port).toBe(3000)
  })

  it('a socket from systemd (LISTEN_FDS, for this process or unnamed) is descriptor 3; one meant for another process is ignored', () => {
    expect(loadConfig({}, '/srv/paws', 4242).listenFd).toBeNull()
    expect(loadConfig({ LISTEN_FDS: '1', LISTEN_PID: '4242' }, '/srv/paws', 4242).listenFd).toBe(3)
    expect(loadConfig({ LISTEN_FDS: '1' }, '/srv/paws', 4242).listenFd).toBe(3)
    // Inherited from a parent that was activated: not ours, so listen on HOST and PORT.
    expect(loadConfig({ LISTEN_FDS: '1', LISTEN_PID: '4241' }, '/srv/paws', 4242).listenFd).toBeNull()
    expect(loadConfig({ LISTEN_FDS: '0' }, '/srv/paws', 4242).listenFd).toBeNull()
  })

  it('refuses more than one socket, a malformed LISTEN_FDS, and socket activation with several workers', () => {
    const own = (env: Record<string, string>) => problems(env, 4242)
    expect(own({ LISTEN_FDS: '2', LISTEN_PID: '4242' })).toEqual(['LISTEN_FDS="2": expected 1: the app listens on one socket (one ListenStream in paws@.socket)'])
    expect(own({ LISTEN_FDS: 'x' })).toEqual(['LISTEN_FDS="x": expected a number of sockets'])
    expect(own({ LISTEN_FDS: '1', WEB_CONCURRENCY: '2' })).toEqual([expect.stringMatching(/^WEB_CONCURRENCY: with a socket from systemd/)])
    // Two workers are fine when the socket was meant for another process.
    expect(own({ LISTEN_FDS: '1', LISTEN_PID: '4241', WEB_CONCURRENCY: '2' })).toEqual([])
  })

  it('without SECRET_KEY outside production there is no configured key: the one kept with the data is used', () => {
    expect(loadConfig({}).secretKey).toBeNull()
    expect(loadConfig({ SECRET_KEY: 'k'.repeat(40) }).secretKey).toBe('k'.repeat(40))
  })

  it('SECRET_KEY_PREVIOUS is read for a rotation, and must be a real key', () => {
    expect(loadConfig({}).previousSecretKey).toBeNull()
    expect(loadConfig({ SECRET_KEY: 'n'.repeat(40), SECRET_KEY_PREVIOUS: 'o'.repeat(40) }).previousSecretKey).toBe('o'.repeat(40))
    expect(problems({ SECRET_KEY_PREVIOUS: 'short' })).toEqual([expect.stringMatching(/^SECRET_KEY_PREVIOUS="short": expected the previous SECRET_KEY/)])
  })

  it('metrics are off without METRICS_PORT; with it they listen on 127.0.0.1 unless METRICS_HOST says otherwise', () => {
    expect(loadConfig({}).metrics).toBeNull()
    expect(loadConfig({ METRICS_PORT: '9464' }).metrics).toEqual({ host: '127.0.0.1', port: 9464 })
    expect(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5' }).metrics).toEqual({ host: '10.0.0.5', port: 9464 })
  })

  it('METRICS_PORT must be a port, and never the public one', () => {
    expect(problems({ METRICS_PORT: 'x' })).toEqual(['METRICS_PORT="x": expected a port number (1 to 65535)'])
    expect(problems({ METRICS_PORT: '3000' })).toEqual([expect.stringMatching(/^METRICS_PORT: must not be PORT/)])
    expect(problems({ PORT: '8080', METRICS_PORT: '8080' })).toEqual([expect.stringMatching(/^METRICS_PORT: must not be PORT/)])
  })
})
