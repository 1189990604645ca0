/**
 * The Node flags the production server runs with, as package.json's "start" script gives them
 * ("node [flags] dist/src/server.js"). The benchmark starts the server with them; a unit test checks that the
 * systemd unit's ExecStart carries the same ones.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export const SERVER_ENTRY_PATH = 'dist/src/server.js'

/** The flags between `node` (or a path ending in it) and the entry point of a command line. */
export function nodeFlagsOf (command: string): string[] {
  const words = command.trim().split(/\s+/)
  if (!/(^|\/)node$/.test(words[0] ?? '') || words.at(-1) !== SERVER_ENTRY_PATH) {
    throw new Error(`expected "node [flags] ${SERVER_ENTRY_PATH}", not ${JSON.stringify(command)}`)
  }
  return words.slice(1, -1)
}

/** The flags of package.json's "start" script in the project at `root`. */
export function startScriptFlags (root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }
  return nodeFlagsOf(pkg.scripts?.start ?? '')
}
