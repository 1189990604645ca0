/**
 * Queries that run on every request, or on every login, built and compiled by Kysely once per database
 * handle: each call then only supplies its parameters. Building and compiling a query costs more than SQLite
 * spends answering a primary-key lookup or appending a row, and code that runs only on a login stays cold
 * (unoptimised) in V8, where building costs several times more. Only for single statements whose SQL does not
 * depend on the parameters' values (no lists, no optional clauses): a select, insert, update or delete.
 *
 * On SQLite the compiled SQL also skips Kysely's executor: it runs straight on the connection's cached
 * prepared statement (Kysely's own path adds a connection mutex, plugins and several promises, which cost
 * as much again as the statement), returning what Kysely's SQLite driver returns. It does so only while no
 * transaction is open on the connection; inside one it waits for Kysely's path like every other query, so
 * it never reads another request's uncommitted writes nor writes into another request's transaction. On
 * PostgreSQL it goes through Kysely's executor, so writes still move the change mark (connect.ts).
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely'
import { sqliteConnectionOf } from './connect.js'
import type { Database } from './schema.js'

type Q = Kysely<Database>

const STATEMENT_KINDS = new Set(['SelectQueryNode', 'InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode'])

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
      if (!STATEMENT_KINDS.has(query.query.kind)) throw new Error(`precompiled queries are single statements, not ${query.query.kind}`)
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
      const statement = sqlite.statements.prepare(query.sql)
      if (statement.reader) return { rows: statement.all(values) as O[] }
      const { changes, lastInsertRowid } = statement.run(values)
      return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) }
    }
    return await db.executeQuery<O>({ ...query, parameters: values })
  }
}
