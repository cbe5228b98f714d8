import type { BuildRecord, LeaseRecord } from "../../libs/db/records.js";
import { imagesOfBuilds, markCollected, setPinned } from "../../libs/db/repositories/builds.js";
import { appendCollections } from "../../libs/db/repositories/collections.js";
import { listHeldLeases } from "../../libs/db/repositories/leases.js";
import { withWriteTransaction } from "../../libs/db/write-transaction.js";
import { collectionFeedKey } from "./collection-feed.js";
import { requireBuild } from "./builds.js";
import { BuildNotFoundError, InvalidFieldError } from "./errors.js";
import { nowOf, type MetadataDeps } from "./metadata-deps.js";

/** Most builds one MarkCollected call may name. */
const maxIds = 1000;

/**
 * Records that garbage collection deleted these builds' images (the records
 * stay) and tells the collected-images watchers, also for builds marked
 * before: a retried collection deleted the image again. The images go on
 * the collection feed in the same transaction, so the watchers of every
 * other metadata process on this database hear of them too.
 */
export async function markBuildsCollected(deps: MetadataDeps, ids: readonly string[]): Promise<number> {
  if (ids.length > maxIds) throw new InvalidFieldError("ids", String(ids.length), `at most ${maxIds} build ids per call`);
  for (const id of ids) if (id === "") throw new InvalidFieldError("ids", id, "build ids such as b_01h…");
  const { db, capabilities, logWaker } = deps.database();
  const now = nowOf(deps);
  const { marked, images } = await withWriteTransaction(db, capabilities, async (trx) => {
    const marked = await markCollected(trx, ids, now);
    const images = await imagesOfBuilds(trx, ids);
    await appendCollections(trx, images, deps.origin ?? "", now);
    await logWaker.announce(trx, collectionFeedKey);
    return { marked, images };
  });
  deps.collectionWatchers?.publish(images);
  return marked;
}

/** Pins (or unpins) a build's image against garbage collection; `BuildNotFoundError` when there is no such build. */
export async function pinBuild(deps: MetadataDeps, id: string, pinned: boolean): Promise<BuildRecord> {
  if (id === "") throw new InvalidFieldError("id", id, "a build id such as b_01h…");
  if (!(await setPinned(deps.database().db, id, pinned))) throw new BuildNotFoundError(id);
  return requireBuild(deps, id);
}

/** Leases under `prefix` still held (`build:` for the builds running anywhere). */
export async function heldLeases(deps: MetadataDeps, prefix: string): Promise<LeaseRecord[]> {
  const { db, capabilities } = deps.database();
  return listHeldLeases(db, capabilities, prefix);
}
