import type { Kysely } from "kysely";

// Never change this file once landed: add a new one.

/**
 * Creates `install_secrets`: values that belong to one install and live
 * with its metadata, such as the random key that hashes secret build args.
 * Rows are created on first use, not here, so this migration writes no
 * secret and stays the same on every install.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("install_secrets")
    .ifNotExists()
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
}

/** Drops what `up` created. */
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("install_secrets").ifExists().execute();
}
