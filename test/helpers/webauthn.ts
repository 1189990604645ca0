/**
 * A software authenticator for tests without a browser: an EC P-256 key made with node:crypto, attestation
 * objects in the 'none' format and assertions signed as an authenticator signs them (WebAuthn Level 3,
 * 6.1 and 6.5), encoded with a CBOR writer for just the shapes these need. Each answer can be bent (another
 * origin, a counter that goes back) to test what the server refuses.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto'

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor> | { [key: string]: Cbor }

function head (major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length])
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length])
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff])
  const b = Buffer.alloc(5)
  b[0] = (major << 5) | 26
  b.writeUInt32BE(length, 1)
  return b
}

export function cbor (value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value)
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)])
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value])
  const entries = value instanceof Map ? [...value] : Object.entries(value)
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])])
}

const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest()
const FLAG_UP = 0x01
const FLAG_UV = 0x04
const FLAG_AT = 0x40

export interface AnswerOptions {
  origin?: string
  /** The user-verified flag (default set). */
  verified?: boolean
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16).toString('base64url')
  counter = 0
  private readonly privateKey: KeyObject
  private readonly publicKey: KeyObject
  private userHandle: string | undefined

  constructor (readonly rpId: string, readonly origin: string) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    this.privateKey = pair.privateKey
    this.publicKey = pair.publicKey
  }

  private coseKey (): Buffer {
    const jwk = this.publicKey.export({ format: 'jwk' })
    return cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]))
  }

  private authData (flags: number, attested: Buffer | null): Buffer {
    const count = Buffer.alloc(4)
    count.writeUInt32BE(this.counter)
    return Buffer.concat([sha256(this.rpId), Buffer.from([flags]), count, ...(attested === null ? [] : [attested])])
  }

  private clientData (type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }))
  }

  /** The answer to registration options (what @simplewebauthn/browser's startRegistration returns). */
  register (options: { challenge: string, user: { id: string } }, { origin = this.origin, verified = true }: AnswerOptions = {}) {
    this.userHandle = options.user.id
    const id = Buffer.from(this.credentialId, 'base64url')
    const idLength = Buffer.alloc(2)
    idLength.writeUInt16BE(id.length)
    const attested = Buffer.concat([Buffer.alloc(16), idLength, id, this.coseKey()])
    const authData = this.authData(FLAG_UP | FLAG_AT | (verified ? FLAG_UV : 0), attested)
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: this.clientData('webauthn.create', options.challenge, origin).toString('base64url'),
        attestationObject: cbor({ fmt: 'none', attStmt: {}, authData }).toString('base64url'),
        transports: ['internal']
      },
      clientExtensionResults: {}
    }
  }

  /** The answer to login options (what startAuthentication returns); the counter moves on first. */
  assert (options: { challenge: string }, { origin = this.origin, verified = true }: AnswerOptions = {}) {
    this.counter++
    const authData = this.authData(FLAG_UP | (verified ? FLAG_UV : 0), null)
    const clientData = this.clientData('webauthn.get', options.challenge, origin)
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.privateKey)
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: clientData.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        ...(this.userHandle === undefined ? {} : { userHandle: this.userHandle })
      },
      clientExtensionResults: {}
    }
  }
}
