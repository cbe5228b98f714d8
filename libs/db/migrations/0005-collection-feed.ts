import type { Kysely } from "kysely";

// Never change this file once landed: add a new one.

/**
 * The collection feed: one row per image garbage collection deleted, in the
 * order the collections committed (`seq`, handed out from the single
 * `collection_head` row inside the marking transaction, so a later `seq`
 * never commits before an earlier one), for every metadata process sharing
 * the database to read after its cursor.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("collection_head")
    .ifNotExists()
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("last_seq", "bigint", (c) => c.notNull())
    .execute();
  await db.insertInto("collection_head").values({ id: 1, last_seq: 0 }).execute();
  await db.schema
    .createTable("collections")
    .ifNotExists()
    .addColumn("seq", "bigint", (c) => c.primaryKey())
    .addColumn("image", "text", (c) => c.notNull())
    .addColumn("origin", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .execute();
}

/** Drops what `up` added. */
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("collections").ifExists().execute();
  await db.schema.dropTable("collection_head").ifExists().execute();
}
