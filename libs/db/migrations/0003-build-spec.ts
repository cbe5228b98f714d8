import type { Kysely } from "kysely";

// Never change this file once landed: add a new one.

/**
 * Adds the rest of a build's spec to its record (Containerfile path, build
 * args with secret values left out, target, platform) and the time it was
 * pushed, so a build's page can show what it was asked to build and when.
 * Builds recorded before keep the defaults.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const name of ["containerfile", "target", "platform"]) {
    await db.schema.alterTable("builds").addColumn(name, "text", (c) => c.notNull().defaultTo("")).execute();
  }
  await db.schema.alterTable("builds").addColumn("args_json", "text", (c) => c.notNull().defaultTo("[]")).execute();
  await db.schema.alterTable("builds").addColumn("pushed_at", "bigint").execute();
}

/** Drops what `up` added. */
export async function down(db: Kysely<any>): Promise<void> {
  for (const name of ["pushed_at", "args_json", "platform", "target", "containerfile"]) {
    await db.schema.alterTable("builds").dropColumn(name).execute();
  }
}
