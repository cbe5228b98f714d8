import { DomainError } from "../../libs/errors/domain-error.js";
import { buildLeaseKey, type BuildPatch, type BuildRecord, type BuildStatus } from "../../libs/db/records.js";
import { getBuild, insertBuild, listBuilds, updateBuildIf } from "../../libs/db/repositories/builds.js";
import { isLeaseCurrent } from "../../libs/db/repositories/leases.js";
import { checkTransition, isFinal } from "./build-status.js";
import { newBuildId } from "./build-id.js";
import { BuildFinalError, BuildNotFoundError, InvalidFieldError, StaleFencingTokenError } from "./errors.js";
import { nowOf, type MetadataDeps } from "./metadata-deps.js";
import { decodePageToken, encodePageToken, pageSize } from "./page-token.js";

/**
 * What a caller gives to create a build: the record without what is
 * assigned here (id, times, outcome, lease binding, collection); `status`
 * is `queued` (default) or `running`. Secret args come by name only: their
 * values are dropped before this.
 */
export type NewBuild = Omit<
  BuildRecord,
  "id" | "status" | "errorCode" | "errorMessage" | "createdAt" | "startedAt" | "finishedAt" | "pushedAt" | "leaseKey" | "leaseToken" | "collectedAt" | "pinned"
> & { readonly status: BuildStatus | undefined };

/**
 * Creates a build record with a new sortable id. With `fencingToken`, the
 * build is bound to that token of lease `build:<imageKey>`, which must be
 * current: the reaper abandons it once that lease lapses.
 */
export async function createBuild(deps: MetadataDeps, input: NewBuild, fencingToken: number): Promise<BuildRecord> {
  const { db, capabilities } = deps.database();
  const status = input.status ?? "queued";
  if (status !== "queued" && status !== "running") {
    throw new InvalidFieldError("build.status", status, "queued or running for a new build");
  }
  const leaseKey = input.imageKey === "" ? "" : buildLeaseKey(input.imageKey);
  if (fencingToken > 0) {
    if (leaseKey === "") throw new InvalidFieldError("build.image_key", "", "an image key when fencing_token is set");
    if (!(await isLeaseCurrent(db, capabilities, leaseKey, fencingToken))) {
      throw new StaleFencingTokenError(`build for image key ${input.imageKey} was not created`, leaseKey, fencingToken);
    }
  }
  const now = nowOf(deps);
  const record: BuildRecord = {
    ...input,
    id: newBuildId(now),
    status,
    errorCode: "",
    errorMessage: "",
    createdAt: now,
    startedAt: status === "running" ? now : undefined,
    pushedAt: undefined,
    finishedAt: undefined,
    leaseKey,
    leaseToken: fencingToken,
  };
  await insertBuild(db, record);
  return record;
}

/** The build with `id`; `BuildNotFoundError` when there is none. */
export async function requireBuild(deps: MetadataDeps, id: string): Promise<BuildRecord> {
  if (id === "") throw new InvalidFieldError("id", id, "a build id such as b_01h…");
  const build = await getBuild(deps.database().db, id);
  if (!build) throw new BuildNotFoundError(id);
  return build;
}

/** Fields an update may set; status changes must be legal transitions. */
export type BuildUpdate = Omit<BuildPatch, "startedAt" | "pushedAt" | "finishedAt" | "leaseToken">;

/**
 * Changes a build with a compare-and-set on its status, so two writers
 * cannot both move it. Final builds never change. With `fencingToken`, the
 * change applies only while that token of the build's lease is current, and
 * binds the build to it.
 */
export async function updateBuild(deps: MetadataDeps, id: string, update: BuildUpdate, fencingToken: number): Promise<BuildRecord> {
  const database = deps.database();
  for (let attempt = 0; ; attempt++) {
    const current = await requireBuild(deps, id);
    const to = update.status ?? current.status;
    if (isFinal(current.status)) {
      if (to !== current.status) checkTransition(id, current.status, to);
      throw new BuildFinalError(id, current.status, "its record does not change");
    }
    checkTransition(id, current.status, to);
    const now = nowOf(deps);
    const patch: BuildPatch = {
      ...update,
      ...(to === "running" && current.startedAt === undefined ? { startedAt: now } : {}),
      ...(to === "pushing" && current.pushedAt === undefined ? { pushedAt: now } : {}),
      ...(isFinal(to) ? { finishedAt: now } : {}),
      ...(fencingToken > 0 ? { leaseToken: fencingToken } : {}),
    };
    if (fencingToken > 0 && current.leaseKey === "") {
      throw new InvalidFieldError("fencing_token", String(fencingToken), `0: build ${id} has no image key, so no lease`);
    }
    const fencing = fencingToken > 0 ? { leaseKey: current.leaseKey, token: fencingToken } : undefined;
    if (await updateBuildIf(database.db, database.capabilities, id, current.status, patch, fencing)) {
      if (isFinal(to)) {
        await database.logWaker.announce(database.db, id);
        database.logWaker.wakeLocal(id);
      }
      return requireBuild(deps, id);
    }
    const again = await requireBuild(deps, id);
    if (fencing && again.status === current.status) {
      throw new StaleFencingTokenError(`build ${id} was not changed`, fencing.leaseKey, fencing.token);
    }
    if (attempt >= 10) throw new DomainError("aborted", `build ${id} kept changing under concurrent updates: try again`);
  }
}

/** Filters and paging of `listBuildPage`. */
export interface BuildListRequest {
  readonly appId: string;
  readonly status: BuildStatus | undefined;
  readonly imageKey: string;
  readonly pageSize: number;
  readonly pageToken: string;
  readonly uncollectedOnly?: boolean;
}

/** One page of builds, newest first, and the token of the next page ("" at the end). */
export async function listBuildPage(deps: MetadataDeps, req: BuildListRequest): Promise<{ builds: BuildRecord[]; nextPageToken: string }> {
  const limit = pageSize(req.pageSize);
  const beforeId = decodePageToken("builds", req.pageToken);
  const rows = await listBuilds(deps.database().db, {
    ...(req.appId !== "" ? { appId: req.appId } : {}),
    ...(req.status !== undefined ? { status: req.status } : {}),
    ...(req.imageKey !== "" ? { imageKey: req.imageKey } : {}),
    ...(beforeId !== undefined ? { beforeId } : {}),
    ...(req.uncollectedOnly === true ? { uncollectedOnly: true } : {}),
    limit: limit + 1,
  });
  const builds = rows.slice(0, limit);
  const last = builds[builds.length - 1];
  return { builds, nextPageToken: rows.length > limit && last ? encodePageToken("builds", last.id) : "" };
}
