/**
 * Reads a V8 CPU profile (node --cpu-prof) and prints where the time went: the functions with the most
 * self time, and the time spent under each package or source file (inclusive). Also writes the stacks in
 * "folded" form beside it, for flame-graph tools (flamegraph.pl, speedscope, inferno).
 *
 * Usage: tsx bench/profile.ts <file.cpuprofile> [top=25]
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

interface CallFrame { functionName: string, url: string, lineNumber: number, columnNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, hitCount?: number, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples?: number[], timeDeltas?: number[] }

export interface ProfileSummary {
  totalMs: number
  idleMs: number
  selfByFunction: Array<{ name: string, ms: number, share: number }>
  inclusiveByModule: Array<{ module: string, ms: number, share: number }>
}

function moduleOf (url: string): string {
  if (url === '') return '(native / V8)'
  if (url.startsWith('node:')) return 'node: (core)'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]!}/${rest[1]!}` : rest[0]!
  }
  const src = url.indexOf('/dist/src/')
  if (src >= 0) return `app: ${url.slice(src + '/dist/'.length)}`
  return url.replace(/^file:\/\//, '')
}

function frameName (frame: CallFrame): string {
  const where = frame.url === '' ? '' : ` ${moduleOf(frame.url)}:${frame.lineNumber + 1}`
  return `${frame.functionName || '(anonymous)'}${where}`
}

export function summarize (file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

  // Time per sample: the deltas when present, else an even share of the profile's length.
  const selfUs = new Map<number, number>()
  if (profile.samples !== undefined && profile.timeDeltas !== undefined) {
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!
      const delta = profile.timeDeltas[i + 1] ?? 0
      selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, delta))
    }
  } else {
    const hits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0)
    const perHit = hits === 0 ? 0 : (profile.endTime - profile.startTime) / hits
    for (const node of profile.nodes) selfUs.set(node.id, (node.hitCount ?? 0) * perHit)
  }

  let totalUs = 0
  let idleUs = 0
  const selfByName = new Map<string, number>()
  const inclusiveByModule = new Map<string, number>()
  const folded = new Map<string, number>()
  for (const [id, us] of selfUs) {
    if (us === 0) continue
    const node = byId.get(id)!
    const name = node.callFrame.functionName
    totalUs += us
    if (name === '(idle)') { idleUs += us; continue }
    const key = frameName(node.callFrame)
    selfByName.set(key, (selfByName.get(key) ?? 0) + us)
    const stack: string[] = []
    const modules = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame
      if (frame.functionName === '(root)') break
      stack.push(frameName(frame).replace(/;/g, ','))
      modules.add(moduleOf(frame.url))
    }
    for (const m of modules) inclusiveByModule.set(m, (inclusiveByModule.get(m) ?? 0) + us)
    const line = stack.reverse().join(';')
    folded.set(line, (folded.get(line) ?? 0) + us)
  }
  writeFileSync(file.replace(/\.cpuprofile$/, '') + '.folded', [...folded].map(([stack, us]) => `${stack} ${Math.round(us)}`).join('\n') + '\n')

  const busyUs = totalUs - idleUs
  const share = (us: number) => busyUs === 0 ? 0 : us / busyUs
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    selfByFunction: [...selfByName].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000, share: share(us) })),
    inclusiveByModule: [...inclusiveByModule].sort((a, b) => b[1] - a[1]).slice(0, top).map(([module, us]) => ({ module, ms: us / 1000, share: share(us) }))
  }
}

export function formatSummary (summary: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`
  const lines = [
    `profile: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${(summary.idleMs / 1000).toFixed(1)} s idle; shares are of the busy time`,
    '',
    'self time, by function:',
    ...summary.selfByFunction.map((f) => `  ${pct(f.share)}  ${f.name}`),
    '',
    'inclusive time, by package or source file:',
    ...summary.inclusiveByModule.map((m) => `  ${pct(m.share)}  ${m.module}`)
  ]
  return lines.join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top] = process.argv.slice(2)
  if (file === undefined) {
    process.stderr.write('usage: tsx bench/profile.ts <file.cpuprofile> [top]\n')
    process.exit(2)
  }
  process.stdout.write(formatSummary(summarize(file, top === undefined ? 25 : Number(top))) + '\n')
}
