/**
 * In-process waiters keyed by build id, the part of a `LogWaker` every
 * backend shares: `wait` resolves on `wake(id)`, after `timeoutMs`, or on
 * abort, whichever comes first.
 */
export interface LocalWaiters {
  wake(id: string): void;
  wait(id: string, timeoutMs: number, signal: AbortSignal): Promise<void>;
}

/** Creates an empty set of waiters. */
export function createLocalWaiters(): LocalWaiters {
  const waiters = new Map<string, Set<() => void>>();
  return {
    wake(id) {
      const set = waiters.get(id);
      if (!set) return;
      waiters.delete(id);
      for (const fn of set) fn();
    },
    wait(id, timeoutMs, signal) {
      return new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          waiters.get(id)?.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        signal.addEventListener("abort", done, { once: true });
        let set = waiters.get(id);
        if (!set) waiters.set(id, (set = new Set()));
        set.add(done);
      });
    },
  };
}
