import { DomainError } from "../../libs/errors/domain-error.js";

/** Most batches a watcher may have waiting before it is cut off (it then watches again from a reset). */
const maxPending = 1000;

/**
 * The watchers of collected images in one metadata process: MarkCollected
 * publishes the images of the builds it marked, the collection feed those
 * other processes marked, and every WatchCollected stream gets them. A
 * watcher that falls too far behind, or that would miss collections because
 * the feed cannot read the database, is ended, so a resolver never keeps
 * trusting a cache it could not keep up to date.
 */
export interface CollectionWatchers {
  /** Hands `images` to every watcher. */
  publish(images: readonly string[]): void;
  /** One empty batch once the watch is live (at once unless the feed is down), then each published batch until `signal` aborts. */
  watch(signal: AbortSignal): AsyncGenerator<readonly string[]>;
  /**
   * Whether every collection reaches the watchers now. Going down ends every
   * watch with `unavailable` naming `reason`; a watch opened while down
   * gives its live marker once the feed is live again.
   */
  setLive(live: boolean, reason?: string): void;
}

interface Watcher {
  readonly batches: (readonly string[])[];
  wake: () => void;
  /** Why this watch ends: it fell behind, or the feed went down. */
  ended?: DomainError;
}

/** Creates the watchers of one metadata process; `live` false until the feed first reads the database. */
export function createCollectionWatchers(opts: { live?: boolean } = {}): CollectionWatchers {
  const watchers = new Set<Watcher>();
  let down: string | undefined = opts.live === false ? "the collection feed has not read the database yet" : undefined;
  /** Watches opened while down, woken when live again. */
  const waiting = new Set<() => void>();
  const unavailable = (why: string): DomainError => new DomainError("unavailable", `collected images cannot be watched: ${why}`);
  return {
    publish(images) {
      if (images.length === 0) return;
      for (const w of watchers) {
        if (w.ended) continue;
        if (w.batches.length >= maxPending) w.ended = new DomainError("resourceExhausted", `collected-images watcher fell more than ${maxPending} batches behind: watch again`);
        else w.batches.push([...images]);
        w.wake();
      }
    },
    setLive(live, reason) {
      if (live) {
        down = undefined;
        for (const wake of waiting) wake();
        return;
      }
      down = reason ?? "the collection feed is down";
      for (const w of watchers) {
        w.ended ??= unavailable(down);
        w.wake();
      }
    },
    async *watch(signal) {
      const w: Watcher = { batches: [], wake: () => {} };
      const onAbort = (): void => w.wake();
      signal.addEventListener("abort", onAbort);
      try {
        while (down !== undefined && !signal.aborted) {
          await new Promise<void>((resolve) => {
            w.wake = resolve;
            waiting.add(resolve);
          });
          waiting.delete(w.wake);
        }
        if (signal.aborted) return;
        watchers.add(w);
        yield [];
        for (;;) {
          while (w.batches.length === 0 && !w.ended && !signal.aborted) await new Promise<void>((resolve) => (w.wake = resolve));
          if (signal.aborted) return;
          if (w.ended) throw w.ended;
          yield w.batches.shift() ?? [];
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
        watchers.delete(w);
      }
    },
  };
}
