/**
 * What the server wrote to its log during the benchmark. At the default log level (info) that is a line
 * per request, hundreds of MiB over a full run, so the file is read as a stream, never whole: its size,
 * its lines, and the last warnings and errors (pino's level 40 and above, and any line that is not JSON,
 * such as Node's own messages on standard error).
 */
import { createReadStream, statSync } from 'node:fs'
import { createInterface } from 'node:readline'

export interface ServerLogSummary {
  bytes: number
  lines: number
  /** Lines at info (pino level 30). */
  infoLines: number
  /** The last `keep` lines at warn or above, or not JSON. */
  problems: string[]
}

/** pino's numeric level of a JSON line, read without parsing the whole line; null when it is not JSON. */
function levelOf (line: string): number | null {
  if (!line.startsWith('{')) return null
  const match = /^\{"level":(\d+)/.exec(line) ?? /"level":(\d+)/.exec(line)
  return match === null ? null : Number(match[1])
}

export async function summarizeServerLog (file: string, keep = 20): Promise<ServerLogSummary> {
  let bytes = 0
  try {
    bytes = statSync(file).size
  } catch {
    return { bytes: 0, lines: 0, infoLines: 0, problems: [] }
  }
  let lines = 0
  let infoLines = 0
  const problems: string[] = []
  const reader = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })
  for await (const line of reader) {
    if (line === '') continue
    lines++
    const level = levelOf(line)
    if (level === 30) infoLines++
    if (level === null || level >= 40) {
      problems.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line)
      if (problems.length > keep) problems.shift()
    }
  }
  return { bytes, lines, infoLines, problems }
}
