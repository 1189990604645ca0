/**
 * The scale tests run the compiled server (dist/src/server.js), as production does. `npm test` builds
 * first; when a file under src/ is newer than the build (vitest run on its own), build again here so the
 * processes never run stale code.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..', '..', '..')
export const SERVER_ENTRY = join(ROOT, 'dist', 'src', 'server.js')

function newest (dir: string): number {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

function builtAt (): number {
  try {
    return statSync(SERVER_ENTRY).mtimeMs
  } catch {
    return 0
  }
}

export function setup (): void {
  if (builtAt() >= newest(join(ROOT, 'src'))) return
  process.stdout.write('[scale tests] dist/ is missing or older than src/: building (npm run build)\n')
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' })
}
