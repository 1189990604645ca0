/** Terminal input for the CLI: a hidden password prompt on a terminal, the first line of stdin otherwise. */
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'

export interface Io {
  stdin: Readable & { isTTY?: boolean, setRawMode?: (mode: boolean) => unknown }
  stdout: Writable
  stderr: Writable
}

const MAX_PASSWORD_INPUT = 4096

export async function readPassword (io: Io, prompt: string): Promise<string> {
  if (io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function') return await promptHidden(io, prompt)
  const rl = createInterface({ input: io.stdin, terminal: false })
  try {
    const [line] = await Promise.race([once(rl, 'line'), once(rl, 'close').then(() => [''])]) as [string]
    return line.slice(0, MAX_PASSWORD_INPUT)
  } finally {
    rl.close()
  }
}

async function promptHidden (io: Io, prompt: string): Promise<string> {
  const stdin = io.stdin
  // Echo goes off before the prompt appears, so nothing typed after seeing it is ever echoed.
  stdin.setRawMode!(true)
  io.stdout.write(prompt)
  stdin.resume()
  stdin.setEncoding('utf8')
  return await new Promise<string>((resolve, reject) => {
    let value = ''
    const done = (result: () => void) => {
      stdin.setRawMode!(false)
      stdin.pause()
      stdin.removeListener('data', onData)
      io.stdout.write('\n')
      result()
    }
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') { done(() => resolve(value)); return }
        if (ch === '\u0003') { done(() => reject(new Error('Cancelled.'))); return }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('')
        else if (value.length < MAX_PASSWORD_INPUT) value += ch
      }
    }
    stdin.on('data', onData)
  })
}
