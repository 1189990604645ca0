/**
 * Reads the Prometheus text exposition format (version 0.0.4) strictly: every line must be a HELP or TYPE
 * comment or a sample `name{label="value",…} number`, or parsing fails. Samples are keyed by name and
 * labels sorted, e.g. `paws_logins_total{outcome="success"}`.
 */
const COMMENT = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:[0-9.]+(?:e[+-]?[0-9]+)?|[Nn]a[Nn]|[+-]Inf))(?: -?[0-9]+)?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

export interface Exposition {
  samples: Map<string, number>
  types: Map<string, string>
}

export function sampleKey (name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}="${v}"`)
  return pairs.length === 0 ? name : `${name}{${pairs.join(',')}}`
}

export function parseExposition (text: string): Exposition {
  const samples = new Map<string, number>()
  const types = new Map<string, string>()
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '') continue
    const comment = COMMENT.exec(line)
    if (comment !== null) {
      if (comment[1] === 'TYPE') {
        if (!TYPES.has(comment[3]!)) throw new Error(`line ${index + 1}: unknown type ${comment[3]}`)
        types.set(comment[2]!, comment[3]!)
      }
      continue
    }
    const sample = SAMPLE.exec(line)
    if (sample === null) throw new Error(`line ${index + 1} is not in the exposition format: ${line}`)
    const labels: Record<string, string> = {}
    const body = sample[2] ?? ''
    LABEL.lastIndex = 0
    let consumed = 0
    for (let m = LABEL.exec(body); m !== null; m = LABEL.exec(body)) {
      labels[m[1]!] = m[2]!
      consumed = LABEL.lastIndex
    }
    if (consumed !== body.length) throw new Error(`line ${index + 1}: malformed labels: ${line}`)
    const key = sampleKey(sample[1]!, labels)
    if (samples.has(key)) throw new Error(`line ${index + 1}: ${key} appears twice`)
    samples.set(key, Number(sample[3]))
  }
  return { samples, types }
}
