/**
 * A bounded LRU of positive existence answers. A content-addressed name
 * never changes meaning, so "exists with digest D" stays true; "missing"
 * is never stored, because a build may create it any moment.
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

/** Creates the LRU; the least recently read entry goes first when full. */
export function createPositiveCache<V>(capacity: number): PositiveCache<V> {
  const entries = new Map<string, V>();
  return {
    get(key) {
      const v = entries.get(key);
      if (v !== undefined) {
        entries.delete(key);
        entries.set(key, v);
      }
      return v;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, value);
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
