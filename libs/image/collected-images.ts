/**
 * In-process notice that garbage collection deleted images, so a resolver
 * in the same process forgets its cached "exists" answers for them and a
 * later request builds them again.
 */
export interface CollectedImages {
  /** Tells every listener these references are gone. */
  collected(references: readonly string[]): void;
  /** Calls `listener` for every reference collected from now on. */
  onCollected(listener: (reference: string) => void): void;
}

/** Creates the notice board of one process. */
export function createCollectedImages(): CollectedImages {
  const listeners: ((reference: string) => void)[] = [];
  return {
    collected(references) {
      for (const ref of references) for (const l of listeners) l(ref);
    },
    onCollected(listener) {
      listeners.push(listener);
    },
  };
}
