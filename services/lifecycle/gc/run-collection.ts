import { DomainError } from "../../../libs/errors/domain-error.js";
import { collectImages, type CollectDeps, type CollectedImage } from "./collect-images.js";
import { planCollection, type GcBuild, type GcImage, type KeepReason } from "./plan-collection.js";

/** A collection as asked: `buildplane gc` options or the scheduled run's settings. */
export interface CollectionRequest {
  /** Only this app ("" for all). */
  readonly appId: string;
  readonly keep: number;
  readonly olderThanSecs: number;
  readonly dryRun: boolean;
}

/** What a collection did (or, dry, would do). */
export interface CollectionResult {
  readonly images: readonly CollectedImage[];
  readonly held: readonly (GcImage & { readonly reason: KeepReason })[];
  readonly dryRun: boolean;
}

/** The metadata a collection reads and writes. */
export interface CollectionRecords {
  /** Succeeded builds not yet collected (of one app when given). */
  succeeded(appId: string, signal: AbortSignal): Promise<GcBuild[]>;
  /** Image keys of builds queued, running or pushing. */
  runningKeys(signal: AbortSignal): Promise<Set<string>>;
  /** Image keys whose build lease is held. */
  leasedKeys(signal: AbortSignal): Promise<Set<string>>;
  markCollected(buildIds: readonly string[], signal: AbortSignal): Promise<void>;
}

export interface RunCollectionDeps {
  readonly records: CollectionRecords;
  /** The engine and registry of this install, made for one run. */
  targets(signal: AbortSignal): Promise<CollectDeps & { close(): void }>;
  /** Tells this process's resolver the references are gone. */
  collected(references: readonly string[]): void;
  readonly now?: () => number;
}

/**
 * One garbage collection: read the records, plan (pure), delete the planned
 * images that carry buildplane's labels, mark their builds collected, and
 * tell the resolver. Records are read after the running builds and leases,
 * so a build that starts meanwhile is seen as running or not yet succeeded.
 */
export async function runCollection(deps: RunCollectionDeps, req: CollectionRequest, signal: AbortSignal): Promise<CollectionResult> {
  if (!Number.isInteger(req.keep) || req.keep < 1) throw new DomainError("invalidArgument", `keep ${req.keep} is not valid: expected a whole number from 1`);
  if (!Number.isInteger(req.olderThanSecs) || req.olderThanSecs < 0) throw new DomainError("invalidArgument", `older_than_secs ${req.olderThanSecs} is not valid: expected 0 or more seconds`);
  const runningKeys = await deps.records.runningKeys(signal);
  const leasedKeys = await deps.records.leasedKeys(signal);
  const succeeded = await deps.records.succeeded(req.appId, signal);
  const plan = planCollection({ succeeded, runningKeys, leasedKeys, keep: req.keep, olderThanMs: req.olderThanSecs * 1000, now: (deps.now ?? Date.now)() });
  if (req.dryRun) {
    return { images: plan.remove.map((i) => ({ ...i, engineDeleted: false, registryDeleted: false, error: "" })), held: plan.held, dryRun: true };
  }
  const targets = await deps.targets(signal);
  let images: CollectedImage[];
  try {
    images = await collectImages(plan.remove, targets, signal);
  } finally {
    targets.close();
  }
  const gone = images.filter((i) => i.error === "");
  await deps.records.markCollected(gone.flatMap((i) => i.buildIds), signal);
  deps.collected(gone.map((i) => i.image));
  return { images, held: plan.held, dryRun: false };
}
