import { setTimeout as sleep } from "node:timers/promises";

export interface CollectedImagesFeedDeps {
  /** Opens the metadata service's WatchCollected stream: one empty batch once live, then the collected images. */
  watch(signal: AbortSignal): AsyncIterable<{ readonly images: readonly string[] }>;
  /** Each batch of references garbage collection deleted. */
  collected(references: readonly string[]): void;
  /** Ends the feed (server shutdown). */
  readonly signal: AbortSignal;
  /** Wait before watching again after the stream ended, doubling up to `maxRetryMs` (defaults 200 ms and 5 s). */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  /** The watch went down (with why) or came back; for the server log. */
  readonly onChange?: (live: boolean, reason: string) => void;
}

/** Whether news of collections reaches this process now. */
export interface CollectedImagesFeed {
  /**
   * A number that changes each time the watch goes live again (answers
   * cached before may be stale: collections went unheard), or undefined
   * while it is down and collections may be missed.
   */
  epoch(): number | undefined;
}

/**
 * Follows the images garbage collection deletes, wherever it runs: the
 * metadata service streams the images of every build marked collected, and
 * a resolver in another process drops its cached "exists" answers for them.
 * While the stream is down nothing cached may be trusted; it is opened again
 * with backoff until `signal` aborts.
 */
export function followCollectedImages(deps: CollectedImagesFeedDeps): CollectedImagesFeed {
  let live: number | undefined;
  let epochs = 0;
  const first = deps.retryMs ?? 200;
  const max = deps.maxRetryMs ?? 5000;
  void (async () => {
    let delay = first;
    while (!deps.signal.aborted) {
      let reason = "the stream ended";
      try {
        for await (const batch of deps.watch(deps.signal)) {
          if (live === undefined) {
            live = ++epochs;
            delay = first;
            deps.onChange?.(true, "");
          }
          if (batch.images.length > 0) deps.collected(batch.images);
        }
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
      }
      if (live !== undefined) deps.onChange?.(false, reason);
      live = undefined;
      if (deps.signal.aborted) break;
      await sleep(delay, undefined, { signal: deps.signal }).catch(() => undefined);
      delay = Math.min(delay * 2, max);
    }
  })();
  return { epoch: () => live };
}
