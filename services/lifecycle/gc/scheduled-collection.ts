import type { CollectionRequest, CollectionResult } from "./run-collection.js";

export interface ScheduledCollectionDeps {
  /** `[gc]` as it is now; `intervalSecs` 0 pauses the schedule. */
  settings(): { keep: number; olderThanSecs: number; intervalSecs: number };
  collect(req: CollectionRequest, signal: AbortSignal): Promise<CollectionResult>;
  readonly signal: AbortSignal;
  log(message: string, fields: Record<string, unknown>): void;
}

/**
 * Runs a collection every `[gc] interval_secs` (read again after each run,
 * so a reload takes effect), one at a time; a failed run is logged and the
 * next one comes at its time. Returns a stop function.
 */
export function startScheduledCollection(deps: ScheduledCollectionDeps): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (): void => {
    if (stopped || deps.signal.aborted) return;
    const secs = deps.settings().intervalSecs;
    // While paused, look at the setting again in a minute.
    timer = setTimeout(() => void (secs > 0 ? run() : schedule()), (secs > 0 ? secs : 60) * 1000);
  };
  const run = async (): Promise<void> => {
    const { keep, olderThanSecs } = deps.settings();
    try {
      const result = await deps.collect({ appId: "", keep, olderThanSecs, dryRun: false }, deps.signal);
      deps.log("scheduled garbage collection", {
        deleted: result.images.filter((i) => i.error === "").length,
        failed: result.images.filter((i) => i.error !== "").map((i) => `${i.image}: ${i.error}`),
        held: result.held.length,
      });
    } catch (err) {
      if (!deps.signal.aborted) deps.log("scheduled garbage collection failed", { error: err instanceof Error ? err.message : String(err) });
    }
    schedule();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
