import type { Kysely } from "kysely";

// Portable column types only (text, bigint, integer), so the same DDL runs on
// SQLite and Postgres. Never change this file once landed: add a new one.

/** Creates apps, builds, build_logs and leases. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("apps")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("repository", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("ref", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("dir", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("containerfile", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("args_json", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("target", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  let builds = db.schema.createTable("builds").ifNotExists().addColumn("id", "text", (c) => c.primaryKey());
  for (const name of [
    "app_id", "image_key", "image", "digest", "commit_sha", "tree_hash", "mode", "builder_node",
    "error_code", "error_message", "requester", "source_repository", "source_ref", "source_dir", "lease_key",
  ]) {
    builds = builds.addColumn(name, "text", (c) => c.notNull().defaultTo(""));
  }
  builds = builds
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint");
  for (const name of ["context_bytes", "lease_token", "log_last_seq", "log_stored", "log_dropped", "log_marker_seq"]) {
    builds = builds.addColumn(name, "bigint", (c) => c.notNull().defaultTo(0));
  }
  await builds.execute();
  await db.schema.createIndex("builds_app_id_idx").ifNotExists().on("builds").columns(["app_id", "id"]).execute();
  await db.schema.createIndex("builds_image_key_idx").ifNotExists().on("builds").columns(["image_key", "id"]).execute();
  await db.schema.createIndex("builds_status_idx").ifNotExists().on("builds").columns(["status", "id"]).execute();

  await db.schema
    .createTable("build_logs")
    .ifNotExists()
    .addColumn("build_id", "text", (c) => c.notNull())
    .addColumn("seq", "bigint", (c) => c.notNull())
    .addColumn("time_ms", "bigint", (c) => c.notNull())
    .addColumn("stream", "text", (c) => c.notNull())
    .addColumn("text", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("build_logs_pk", ["build_id", "seq"])
    .execute();

  await db.schema
    .createTable("leases")
    .ifNotExists()
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("holder", "text", (c) => c.notNull())
    .addColumn("token", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
}

/** Drops everything `up` created. */
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ["leases", "build_logs", "builds", "apps"]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
