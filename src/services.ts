/** The long-lived parts of the application, built once in buildApp and handed to every plugin. */
import type { Config } from './config.js'
import type { Db } from './db/connect.js'
import type { PasswordHasher } from './auth/passwords.js'
import type { SigningKeys } from './auth/signing-keys.js'
import type { Clock, SessionManager } from './auth/sessions.js'
import type { Throttle } from './auth/throttle.js'
import type { SecretBox } from './auth/secret-box.js'
import type { Outbox } from './mail/outbox.js'
import type { CookieNames } from './http/cookies.js'
import type { Metrics } from './metrics/metrics.js'
import type { PetCatalog } from './pets/catalog.js'

export interface Services {
  readonly config: Config
  readonly db: Db
  readonly clock: Clock
  readonly hasher: PasswordHasher
  readonly sessions: SessionManager
  readonly cookies: CookieNames
  readonly pets: PetCatalog
  /** Signs form tokens: SECRET_KEY, or the key kept with the data (src/auth/signing-keys.ts). */
  readonly keys: SigningKeys
  /** NO_METRICS unless METRICS_PORT is set. */
  readonly metrics: Metrics
  readonly throttle: Throttle
  /** The mail outbox's sender in this process: kick() after a commit that enqueued mail. */
  readonly outbox: Outbox
  /** Seals two-factor secrets at rest (a key derived from SECRET_KEY). */
  readonly twoFactorSecrets: SecretBox
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The application's services, for the guards (which are plain preHandler functions). */
    services: Services
  }
}
