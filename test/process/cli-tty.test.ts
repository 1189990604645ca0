/** `create-staff` at a real terminal (a pseudo-terminal from util-linux `script`): the password is not echoed. */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js')
let dir: string
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('Build first (npm run build): the process tests run the built CLI')
  dir = mkdtempSync(join(tmpdir(), 'paws-cli-tty-'))
})
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

describe('cli at a terminal', () => {
  it('create-staff reads the password at a hidden prompt', async () => {
    const database = join(dir, 'paws.db')
    const password = 'typed at a hidden prompt 8'
    const child = spawn('script', ['-qfec', `${process.execPath} ${CLI} create-staff --email tty@example.com --name "Tty Person"`, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: database, SEED_DEMO_DATA: 'false' },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let output = ''
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk) => {
        output += String(chunk)
        if (output.includes('Password for the new staff account:')) resolve()
      })
    })
    child.stdin.write(`${password}\r`)
    expect(await exited).toBe(0)
    expect(output).toContain('Created staff account tty@example.com (Tty Person).')
    expect(output).not.toContain(password)
    const db = new Database(database, { readonly: true })
    try {
      expect(db.prepare('select role from users where email = ?').get('tty@example.com')).toEqual({ role: 'staff' })
    } finally {
      db.close()
    }
  })
})
