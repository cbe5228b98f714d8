import { DomainError } from "../../libs/errors/domain-error.js";

/** Most batches a watcher may have waiting before it is cut off (it then watches again from a reset). */
const maxPending = 1000;

/**
 * The watchers of collected images in one metadata process: MarkCollected
 * publishes the images of the builds it marked, and every WatchCollected
 * stream gets them. A watcher that falls too far behind is ended, so a
 * resolver never keeps trusting a cache it could not keep up to date.
 */
export interface CollectionWatchers {
  /** Hands `images` to every watcher. */
  publish(images: readonly string[]): void;
  /** One empty batch at once (the watch is live), then each published batch until `signal` aborts. */
  watch(signal: AbortSignal): AsyncGenerator<readonly string[]>;
}

/** Creates the watchers of one metadata process. */
export function createCollectionWatchers(): CollectionWatchers {
  const queues = new Set<{ batches: (readonly string[])[]; wake: () => void; overflow: boolean }>();
  return {
    publish(images) {
      if (images.length === 0) return;
      for (const q of queues) {
        if (q.batches.length >= maxPending) q.overflow = true;
        else q.batches.push([...images]);
        q.wake();
      }
    },
    async *watch(signal) {
      const q = { batches: [] as (readonly string[])[], wake: () => {}, overflow: false };
      queues.add(q);
      const onAbort = (): void => q.wake();
      signal.addEventListener("abort", onAbort);
      try {
        yield [];
        for (;;) {
          while (q.batches.length === 0 && !q.overflow && !signal.aborted) await new Promise<void>((resolve) => (q.wake = resolve));
          if (signal.aborted) return;
          if (q.overflow) throw new DomainError("resourceExhausted", `collected-images watcher fell more than ${maxPending} batches behind: watch again`);
          yield q.batches.shift() ?? [];
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
        queues.delete(q);
      }
    },
  };
}
