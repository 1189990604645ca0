/**
 * Queries that run on every request, built and compiled by Kysely once per database handle: each call
 * then only supplies its parameters. Building and compiling a query costs more than SQLite spends
 * answering a primary-key lookup, so the per-request queries skip it. Only for queries whose SQL does not
 * depend on the parameters' values (no lists, no optional clauses), and only for reads.
 *
 * On SQLite the compiled SQL also skips Kysely's executor: it runs straight on the connection's cached
 * prepared statement (Kysely's own path adds a connection mutex, plugins and several promises, which cost
 * as much again as the lookup). It does so only while no transaction is open on the connection; inside
 * one it waits for Kysely's path like every other query, so it never reads another request's uncommitted
 * writes.
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely'
import { sqliteConnectionOf } from './connect.js'
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
      if (query.query.kind !== 'SelectQueryNode') throw new Error('precompiled queries are reads')
      const slots = query.parameters.map((p) => {
        if (!(p instanceof Slot)) throw new Error('precompiled queries take every value as a parameter')
        return p.index
      })
      compiled = { query, slots }
      cache.set(db, compiled)
    }
    const { query, slots } = compiled
    const values = slots.map((i) => parameters[i])
    const sqlite = sqliteConnectionOf(db)
    if (sqlite !== undefined && !sqlite.database.inTransaction) {
      return { rows: sqlite.statements.prepare(query.sql).all(values) as O[] }
    }
    return await db.executeQuery<O>({ ...query, parameters: values })
  }
}
