import type { Kysely } from "kysely";
import { DomainError } from "../../errors/domain-error.js";
import type { AppRow, DatabaseSchema } from "../tables.js";
import type { AppRecord, BuildArgRecord } from "../records.js";

/** Inserts or replaces an app; `createdAt` of an existing app is kept. */
export async function putApp(db: Kysely<DatabaseSchema>, app: AppRecord): Promise<AppRecord> {
  const row = {
    id: app.id,
    name: app.name,
    repository: app.source.repository,
    ref: app.source.ref,
    dir: app.source.dir,
    containerfile: app.containerfile,
    args_json: JSON.stringify(app.args.map((a) => ({ name: a.name, value: a.secret ? "" : a.value, secret: a.secret }))),
    target: app.target,
    poll_interval_secs: app.pollIntervalSecs,
    created_at: app.createdAt,
    updated_at: app.updatedAt,
  };
  const { created_at: _keep, id: _id, ...changes } = row;
  await db
    .insertInto("apps")
    .values(row)
    .onConflict((oc) => oc.column("id").doUpdateSet(changes))
    .execute();
  const stored = await getApp(db, app.id);
  if (!stored) throw new DomainError("internal", `app ${app.id} was stored but cannot be read back`);
  return stored;
}

/** The app with `id`, or undefined. */
export async function getApp(db: Kysely<DatabaseSchema>, id: string): Promise<AppRecord | undefined> {
  const row = await db.selectFrom("apps").selectAll().where("id", "=", id).executeTakeFirst();
  return row && toAppRecord(row);
}

/** Apps ordered by id, after `afterId` when given. */
export async function listApps(db: Kysely<DatabaseSchema>, page: { afterId?: string; limit: number }): Promise<AppRecord[]> {
  let q = db.selectFrom("apps").selectAll().orderBy("id").limit(page.limit);
  if (page.afterId !== undefined) q = q.where("id", ">", page.afterId);
  return (await q.execute()).map(toAppRecord);
}

/** Deletes the app; false when it did not exist. Its builds stay. */
export async function deleteApp(db: Kysely<DatabaseSchema>, id: string): Promise<boolean> {
  const res = await db.deleteFrom("apps").where("id", "=", id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

function toAppRecord(row: AppRow): AppRecord {
  const args = JSON.parse(row.args_json) as BuildArgRecord[];
  return {
    id: row.id,
    name: row.name,
    source: { repository: row.repository, ref: row.ref, dir: row.dir },
    containerfile: row.containerfile,
    args,
    target: row.target,
    pollIntervalSecs: Number(row.poll_interval_secs),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
