/**
 * Queries that run on every request, built and compiled by Kysely once per database handle: each call
 * then only supplies its parameters. Building and compiling a query costs more than SQLite spends
 * answering a primary-key lookup, so the per-request queries skip it. Only for queries whose SQL does not
 * depend on the parameters' values (no lists, no optional clauses).
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely'
import type { Database } from './schema.js'

type Q = Kysely<Database>

/** Stands for the i-th parameter while the query is compiled; replaced by the call's value afterwards. */
class Slot {
  constructor (readonly index: number) {}
}

export function precompiled<O, P extends unknown[]> (build: (db: Q, ...parameters: P) => Compilable<O>): (db: Q, ...parameters: P) => Promise<QueryResult<O>> {
  const cache = new WeakMap<Q, { query: CompiledQuery<O>, slots: number[] }>()
  return async (db, ...parameters) => {
    let compiled = cache.get(db)
    if (compiled === undefined) {
      const query = build(db, ...parameters.map((_, i) => new Slot(i)) as P).compile()
      const slots = query.parameters.map((p) => {
        if (!(p instanceof Slot)) throw new Error('precompiled queries take every value as a parameter')
        return p.index
      })
      compiled = { query, slots }
      cache.set(db, compiled)
    }
    const { query, slots } = compiled
    return await db.executeQuery<O>({ ...query, parameters: slots.map((i) => parameters[i]) })
  }
}
