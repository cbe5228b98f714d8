import type { Kysely } from "kysely";
import type { DbCapabilities } from "../db-bundle.js";
import type { Updateable } from "kysely";
import type { BuildRow, BuildsTable, DatabaseSchema } from "../tables.js";
import { activeStatuses, type BuildArgRecord, type BuildPatch, type BuildRecord, type BuildStatus } from "../records.js";

/** Stores a new build record. */
export async function insertBuild(db: Kysely<DatabaseSchema>, b: BuildRecord): Promise<void> {
  await db
    .insertInto("builds")
    .values({
      id: b.id,
      app_id: b.appId,
      image_key: b.imageKey,
      image: b.image,
      digest: b.digest,
      commit_sha: b.commit,
      tree_hash: b.treeHash,
      mode: b.mode,
      builder_node: b.builderNode,
      status: b.status,
      error_code: b.errorCode,
      error_message: b.errorMessage,
      created_at: b.createdAt,
      started_at: b.startedAt ?? null,
      finished_at: b.finishedAt ?? null,
      context_bytes: b.contextBytes,
      requester: b.requester,
      source_repository: b.source.repository,
      source_ref: b.source.ref,
      source_dir: b.source.dir,
      lease_key: b.leaseKey,
      lease_token: b.leaseToken,
      containerfile: b.containerfile,
      // Secret values are never stored, whatever the caller sent.
      args_json: JSON.stringify(b.args.map((a) => ({ name: a.name, value: a.secret ? "" : a.value, secret: a.secret }))),
      target: b.target,
      platform: b.platform,
      pushed_at: b.pushedAt ?? null,
    })
    .execute();
}

/** The build with `id`, or undefined. */
export async function getBuild(db: Kysely<DatabaseSchema>, id: string): Promise<BuildRecord | undefined> {
  const row = await db.selectFrom("builds").selectAll().where("id", "=", id).executeTakeFirst();
  return row && toBuildRecord(row);
}

/** Filters and cursor of `listBuilds`. */
export interface BuildQuery {
  readonly appId?: string;
  readonly status?: BuildStatus;
  readonly imageKey?: string;
  /** Only builds whose image garbage collection has not deleted. */
  readonly uncollectedOnly?: boolean;
  /** Only builds older than this id (ids sort by creation time). */
  readonly beforeId?: string;
  readonly limit: number;
}

/** Builds matching `q`, newest first. */
export async function listBuilds(db: Kysely<DatabaseSchema>, q: BuildQuery): Promise<BuildRecord[]> {
  let query = db.selectFrom("builds").selectAll().orderBy("id", "desc").limit(q.limit);
  if (q.appId !== undefined) query = query.where("app_id", "=", q.appId);
  if (q.status !== undefined) query = query.where("status", "=", q.status);
  if (q.imageKey !== undefined) query = query.where("image_key", "=", q.imageKey);
  if (q.beforeId !== undefined) query = query.where("id", "<", q.beforeId);
  if (q.uncollectedOnly === true) query = query.where("collected_at", "is", null);
  return (await query.execute()).map(toBuildRecord);
}

/** Marks the builds' images collected at `nowMs`; those already marked keep their time. Returns how many changed. */
export async function markCollected(db: Kysely<DatabaseSchema>, ids: readonly string[], nowMs: number): Promise<number> {
  if (ids.length === 0) return 0;
  const res = await db.updateTable("builds").set({ collected_at: nowMs }).where("id", "in", [...ids]).where("collected_at", "is", null).executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** The distinct image references of these builds (empty names left out). */
export async function imagesOfBuilds(db: Kysely<DatabaseSchema>, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom("builds").select("image").distinct().where("id", "in", [...ids]).where("image", "!=", "").execute();
  return rows.map((r) => r.image);
}

/** Pins or unpins a build; false when there is no such build. */
export async function setPinned(db: Kysely<DatabaseSchema>, id: string, pinned: boolean): Promise<boolean> {
  const res = await db.updateTable("builds").set({ pinned: pinned ? 1 : 0 }).where("id", "=", id).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/**
 * Applies `patch` only while the build still has `expected` status (and,
 * with `fencing`, while that lease token is current on the database clock):
 * a compare-and-set, so concurrent writers cannot both move a build.
 * Returns false when the condition no longer held.
 */
export async function updateBuildIf(
  db: Kysely<DatabaseSchema>,
  caps: DbCapabilities,
  id: string,
  expected: BuildStatus,
  patch: BuildPatch,
  fencing?: { leaseKey: string; token: number },
): Promise<boolean> {
  const set: Updateable<BuildsTable> = {};
  if (patch.status !== undefined) set.status = patch.status;
  if (patch.image !== undefined) set.image = patch.image;
  if (patch.digest !== undefined) set.digest = patch.digest;
  if (patch.commit !== undefined) set.commit_sha = patch.commit;
  if (patch.treeHash !== undefined) set.tree_hash = patch.treeHash;
  if (patch.builderNode !== undefined) set.builder_node = patch.builderNode;
  if (patch.errorCode !== undefined) set.error_code = patch.errorCode;
  if (patch.errorMessage !== undefined) set.error_message = patch.errorMessage;
  if (patch.contextBytes !== undefined) set.context_bytes = patch.contextBytes;
  if (patch.startedAt !== undefined) set.started_at = patch.startedAt;
  if (patch.pushedAt !== undefined) set.pushed_at = patch.pushedAt;
  if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt;
  if (patch.leaseToken !== undefined) set.lease_token = patch.leaseToken;
  if (Object.keys(set).length === 0) set.status = expected;
  let q = db.updateTable("builds").set(set).where("id", "=", id).where("status", "=", expected);
  if (fencing) {
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom("leases")
          .select("leases.key")
          .where("leases.key", "=", fencing.leaseKey)
          .where("leases.token", "=", fencing.token)
          .where("leases.expires_at", ">", caps.nowMs),
      ),
    );
  }
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/**
 * Marks `abandoned` every active build bound to a lease that expired or was
 * taken over by a newer token: its builder is gone. Returns their ids.
 * `leaseKey` limits this to the builds of one lease.
 */
export async function reapAbandonedBuilds(db: Kysely<DatabaseSchema>, caps: DbCapabilities, nowMs: number, leaseKey?: string): Promise<string[]> {
  let query = db
    .selectFrom("builds")
    .innerJoin("leases", "leases.key", "builds.lease_key")
    .select(["builds.id", "builds.status", "builds.lease_key", "builds.lease_token", "leases.token"])
    .where("builds.status", "in", [...activeStatuses])
    .where("builds.lease_token", ">", 0)
    .where((eb) =>
      eb.or([eb("leases.expires_at", "<=", caps.nowMs), eb("leases.token", "<>", eb.ref("builds.lease_token"))]),
    );
  if (leaseKey !== undefined) query = query.where("builds.lease_key", "=", leaseKey);
  const stale = await query.execute();
  const reaped: string[] = [];
  for (const row of stale) {
    const how = Number(row.token) === Number(row.lease_token) ? "expired" : `was taken over (token ${Number(row.token)})`;
    const ok = await updateBuildIf(db, caps, row.id, row.status as BuildStatus, {
      status: "abandoned",
      finishedAt: nowMs,
      errorCode: "aborted",
      errorMessage: `build lease ${row.lease_key} ${how} while the build was ${row.status}`,
    });
    if (ok) reaped.push(row.id);
  }
  return reaped;
}

function toBuildRecord(row: BuildRow): BuildRecord {
  return {
    id: row.id,
    appId: row.app_id,
    imageKey: row.image_key,
    image: row.image,
    digest: row.digest,
    commit: row.commit_sha,
    treeHash: row.tree_hash,
    mode: row.mode,
    builderNode: row.builder_node,
    status: row.status as BuildStatus,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    createdAt: Number(row.created_at),
    startedAt: row.started_at === null ? undefined : Number(row.started_at),
    finishedAt: row.finished_at === null ? undefined : Number(row.finished_at),
    contextBytes: Number(row.context_bytes),
    requester: row.requester,
    source: { repository: row.source_repository, ref: row.source_ref, dir: row.source_dir },
    leaseKey: row.lease_key,
    leaseToken: Number(row.lease_token),
    containerfile: row.containerfile,
    args: JSON.parse(row.args_json) as BuildArgRecord[],
    target: row.target,
    platform: row.platform,
    pushedAt: row.pushed_at === null ? undefined : Number(row.pushed_at),
    collectedAt: row.collected_at === null ? undefined : Number(row.collected_at),
    pinned: Number(row.pinned) === 1,
  };
}
