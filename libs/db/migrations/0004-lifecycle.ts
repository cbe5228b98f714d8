import type { Kysely } from "kysely";

// Never change this file once landed: add a new one.

/**
 * The image lifecycle: an app's poll interval (0: webhooks only), and on
 * builds when garbage collection deleted the image (`collected_at`, null
 * while it exists) and whether it is pinned (1) against collection. One
 * column per statement: SQLite adds one at a time.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("apps").addColumn("poll_interval_secs", "bigint", (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable("builds").addColumn("collected_at", "bigint").execute();
  await db.schema.alterTable("builds").addColumn("pinned", "bigint", (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createIndex("builds_status_app_idx").ifNotExists().on("builds").columns(["status", "app_id"]).execute();
}

/** Drops what `up` added. */
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("builds_status_app_idx").ifExists().execute();
  await db.schema.alterTable("builds").dropColumn("pinned").execute();
  await db.schema.alterTable("builds").dropColumn("collected_at").execute();
  await db.schema.alterTable("apps").dropColumn("poll_interval_secs").execute();
}
