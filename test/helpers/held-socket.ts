/**
 * A listening socket held the way systemd holds one for socket activation (docs/deploy/paws@.socket): the
 * test process binds it and hands it to each server it starts as descriptor 3 with LISTEN_FDS=1, but never
 * accepts on it. The first server's listen() puts it in the listening state; from then on connections queue
 * in it whenever no server is running, and the next server answers them.
 *
 * Node has no public way to open a socket without also accepting on it, so this uses node:net's
 * _createServerHandle, the function cluster uses to bind a socket its workers then listen on.
 */
import type { StdioOptions } from 'node:child_process'
import net from 'node:net'
import { getSystemErrorName } from 'node:util'

interface TcpHandle {
  readonly fd: number
  getsockname: (out: { port?: number }) => number
  close: () => void
}

type CreateServerHandle = (address: string, port: number, addressType: number) => TcpHandle | number

export interface HeldSocket {
  readonly port: number
  /** The descriptor in this process, for a child's stdio[3]. */
  readonly fd: number
  close: () => void
}

export function holdSocket (host = '127.0.0.1'): HeldSocket {
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle
  if (typeof create !== 'function') throw new Error('node:net has no _createServerHandle in this Node.js version: hold the socket another way')
  const handle = create(host, 0, 4)
  if (typeof handle === 'number') throw new Error(`could not bind ${host}: ${getSystemErrorName(handle)}`)
  const address: { port?: number } = {}
  const error = handle.getsockname(address)
  if (error !== 0 || address.port === undefined) throw new Error(`getsockname failed: ${getSystemErrorName(error)}`)
  return { port: address.port, fd: handle.fd, close: () => { handle.close() } }
}

/**
 * What a child process needs to start the way systemd starts a service with this socket: LISTEN_FDS=1 and
 * the socket as its descriptor 3 (after piped stdout and stderr). Without a socket: nothing added.
 */
export function activation (socket: HeldSocket | undefined): { env: Record<string, string>, stdio: StdioOptions } {
  return socket === undefined
    ? { env: {}, stdio: ['ignore', 'pipe', 'pipe'] }
    : { env: { LISTEN_FDS: '1' }, stdio: ['ignore', 'pipe', 'pipe', socket.fd] }
}
