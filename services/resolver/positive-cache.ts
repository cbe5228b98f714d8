/**
 * A bounded LRU of positive existence answers. A content-addressed name
 * never changes meaning, so "exists with digest D" stays true until the
 * image is deleted: garbage collection's deletions are heard (`delete`,
 * `clear`), and an answer older than the time to live is asked again, so a
 * deletion made outside buildplane is noticed too. "missing" is never
 * stored, because a build may create it any moment.
 */
export interface PositiveCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  /** Forgets a key: its image was deleted (garbage collection). */
  delete(key: string): void;
  /** Forgets every key: deletions may have gone unheard. */
  clear(): void;
  readonly size: number;
}

export interface PositiveCacheOptions {
  /** How long an answer is used (default 10 minutes), read when it is stored, so a changed setting applies to the next answer; 0 stores none. */
  readonly ttlMs?: number | (() => number);
  /** Clock in ms (default `Date.now`). */
  readonly now?: () => number;
}

/** Creates the LRU; the least recently read entry goes first when full. */
export function createPositiveCache<V>(capacity: number, opts: PositiveCacheOptions = {}): PositiveCache<V> {
  const ttl = opts.ttlMs ?? 600_000;
  const ttlMs = typeof ttl === "function" ? ttl : () => ttl;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { value: V; until: number }>();
  return {
    get(key) {
      const e = entries.get(key);
      if (e === undefined) return undefined;
      entries.delete(key);
      if (now() >= e.until) return undefined;
      entries.set(key, e);
      return e.value;
    },
    set(key, value) {
      entries.delete(key);
      const ttl = ttlMs();
      if (ttl <= 0) return;
      entries.set(key, { value, until: now() + ttl });
      while (entries.size > capacity) {
        const oldest = entries.keys().next();
        if (oldest.done === true) break;
        entries.delete(oldest.value);
      }
    },
    delete(key) {
      entries.delete(key);
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
