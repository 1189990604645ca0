/**
 * The server's Node flags (the memory budget, decision 0011; no allocation-site pretenuring, decision 0016)
 * are part of how it runs, so every place that starts it carries the same ones, and this Node accepts them.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { nodeFlagsOf, startScriptFlags } from '../../bench/lib/start-command.js'

const ROOT = join(import.meta.dirname, '../..')

describe('the command that starts the server', () => {
  it('has the same Node flags in package.json and the systemd unit', () => {
    const unit = readFileSync(join(ROOT, 'docs/deploy/paws@.service'), 'utf8')
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1]
    expect(execStart).toBeDefined()
    expect(nodeFlagsOf(execStart!)).toEqual(startScriptFlags(ROOT))
  })

  it('keeps the memory budget and turns allocation-site pretenuring off', () => {
    expect(startScriptFlags(ROOT)).toEqual(expect.arrayContaining([
      '--max-old-space-size=512', '--max-semi-space-size=4', '--no-allocation-site-pretenuring'
    ]))
  })

  it('uses only flags this Node accepts', () => {
    // Node refuses an unknown V8 flag ("bad option") with exit code 9, which execFileSync throws for.
    const out = execFileSync(process.execPath, [...startScriptFlags(ROOT), '-p', '"ok"'], { encoding: 'utf8' })
    expect(out.trim()).toBe('ok')
  })
})
