/**
 * The rescue team's people pages: suspension on the account row, a lower-cased name for prefix search,
 * the indexes that keep the list and its search off a table scan (created order; name prefix; the email
 * prefix uses the existing unique index), and who acted and on what in the account history. Frozen in time.
 */
import type { Kysely } from 'kysely'

type AnyDb = Kysely<any>

/** Rows whose name key is filled in per statement while the migration runs. */
const BACKFILL_BATCH_ROWS = 1000

export async function up (db: AnyDb): Promise<void> {
  await db.schema.alterTable('users').addColumn('suspended_at', 'bigint').execute()
  await db.schema.alterTable('users').addColumn('suspension_reason', 'text').execute()
  await db.schema.alterTable('users').addColumn('name_key', 'text', (c) => c.notNull().defaultTo('')).execute()
  // The key is JavaScript's toLowerCase of the name, as the application writes it (SQLite's lower() is ASCII only).
  let lastId = 0
  for (;;) {
    const rows: Array<{ id: number, full_name: string }> = await db.selectFrom('users').select(['id', 'full_name'])
      .where('id', '>', lastId).orderBy('id').limit(BACKFILL_BATCH_ROWS).execute()
    if (rows.length === 0) break
    for (const row of rows) {
      await db.updateTable('users').set({ name_key: row.full_name.toLowerCase() }).where('id', '=', row.id).execute()
    }
    lastId = rows[rows.length - 1]!.id
  }
  await db.schema.createIndex('users_created_at_idx').on('users').columns(['created_at', 'id']).execute()
  await db.schema.createIndex('users_name_key_idx').on('users').columns(['name_key', 'id']).execute()
  await db.schema.createIndex('users_role_idx').on('users').column('role').execute()

  await db.schema.alterTable('account_events').addColumn('actor_user_id', 'integer').execute()
  await db.schema.alterTable('account_events').addColumn('detail', 'text').execute()
}

export async function down (db: AnyDb): Promise<void> {
  await db.schema.alterTable('account_events').dropColumn('detail').execute()
  await db.schema.alterTable('account_events').dropColumn('actor_user_id').execute()
  await db.schema.dropIndex('users_role_idx').execute()
  await db.schema.dropIndex('users_name_key_idx').execute()
  await db.schema.dropIndex('users_created_at_idx').execute()
  await db.schema.alterTable('users').dropColumn('name_key').execute()
  await db.schema.alterTable('users').dropColumn('suspension_reason').execute()
  await db.schema.alterTable('users').dropColumn('suspended_at').execute()
}
