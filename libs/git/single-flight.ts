/**
 * Runs one operation per key at a time; concurrent callers join the running
 * one. The operation gets its own signal, aborted only when every caller has
 * gone (a caller leaving early does not kill the work others wait for).
 */
export interface SingleFlight {
  run(key: string, start: (signal: AbortSignal) => Promise<void>, signal: AbortSignal | undefined, onAbort: () => Error): Promise<void>;
  /** Keys with an operation in progress. */
  readonly size: number;
}

interface Flight {
  readonly promise: Promise<void>;
  readonly controller: AbortController;
  waiters: number;
  settled: boolean;
}

/** Creates an empty single-flight group. */
export function createSingleFlight(): SingleFlight {
  const flights = new Map<string, Flight>();
  return {
    get size() {
      return flights.size;
    },
    async run(key, start, signal, onAbort) {
      if (signal?.aborted) throw onAbort();
      let flight = flights.get(key);
      if (flight === undefined) {
        const controller = new AbortController();
        const created: Flight = {
          controller,
          waiters: 0,
          settled: false,
          promise: Promise.resolve()
            .then(() => start(controller.signal))
            .finally(() => {
              created.settled = true;
              flights.delete(key);
            }),
        };
        created.promise.catch(() => undefined);
        flights.set(key, created);
        flight = created;
      }
      const f = flight;
      f.waiters++;
      try {
        await raceSignal(f.promise, signal, onAbort);
      } finally {
        f.waiters--;
        if (f.waiters === 0 && !f.settled) f.controller.abort();
      }
    },
  };
}

/** Settles with `p`, or rejects with `onAbort()` as soon as `signal` aborts. */
export function raceSignal<T>(p: Promise<T>, signal: AbortSignal | undefined, onAbort: () => Error): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener("abort", abort, { once: true });
    p.then(
      (v) => { signal.removeEventListener("abort", abort); resolve(v); },
      (e: unknown) => { signal.removeEventListener("abort", abort); reject(e); },
    );
  });
}
