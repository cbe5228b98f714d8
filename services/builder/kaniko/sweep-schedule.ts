import type { SweepResult } from "./kaniko-sweeper.js";

/** Answers whether a build still runs somewhere (its record is not final). */
export type LeaseCheck = (buildId: string) => Promise<boolean>;

export interface SweepScheduleDeps {
  /** One sweep pass (`sweepLeftovers` bound to the cluster), asking `isLeaseAlive` per object. */
  readonly sweep: (isLeaseAlive: LeaseCheck) => Promise<SweepResult>;
  readonly isLeaseAlive: LeaseCheck;
  /** Time between the end of one pass and the start of the next. */
  readonly intervalMs: number;
  /** First wait after a failed pass, doubled on each failure in a row up to `intervalMs` (default 1 s). */
  readonly retryMs?: number;
  /** Resolves when the first pass may start (the metadata database is connected). */
  readonly ready?: () => Promise<void>;
  /** Stops the schedule (the server's shutdown signal). */
  readonly signal: AbortSignal;
  readonly onSwept?: (result: SweepResult) => void;
  readonly onError?: (err: unknown) => void;
}

export interface SweepSchedule {
  /** Stops the timer and waits (at most `waitMs`, default 5 s) for a pass in progress to end. */
  stop(waitMs?: number): Promise<void>;
}

/**
 * Runs the kaniko sweeper once right away — as soon as `ready` — (a main
 * install that crashed left Jobs and Secrets behind) and again every
 * `intervalMs`, never two passes at once; a failed pass is retried sooner,
 * with backoff. Within one pass each build id is looked up once; after `signal`
 * aborts no further object is judged dead, so a pass cut short by shutdown
 * deletes nothing more.
 */
export function scheduleSweeps(deps: SweepScheduleDeps): SweepSchedule {
  const halt = new AbortController();
  const signal = AbortSignal.any([deps.signal, halt.signal]);
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  let failures = 0;
  const next = (): void => {
    if (signal.aborted) return;
    const delay = failures === 0 ? deps.intervalMs : Math.min(deps.intervalMs, (deps.retryMs ?? 1000) * 2 ** (failures - 1));
    timer = setTimeout(pass, delay).unref();
  };
  const pass = (): void => {
    timer = undefined;
    if (signal.aborted) return;
    const seen = new Map<string, Promise<boolean>>();
    const check: LeaseCheck = async (id) => {
      signal.throwIfAborted();
      let alive = seen.get(id);
      if (alive === undefined) {
        alive = deps.isLeaseAlive(id);
        seen.set(id, alive);
      }
      return alive;
    };
    current = deps.sweep(check).then(
      (result) => { failures = 0; deps.onSwept?.(result); },
      (err: unknown) => { failures += 1; if (!signal.aborted) deps.onError?.(err); },
    ).finally(() => {
      current = undefined;
      next();
    });
  };
  const aborted = new Promise<void>((r) => signal.addEventListener("abort", () => { clearTimeout(timer); r(); }, { once: true }));
  // Next turn of the event loop: the services composed with this one are all mounted by then.
  timer = setTimeout(() => {
    timer = undefined;
    const ready = (deps.ready?.() ?? Promise.resolve()).catch(() => undefined);
    current = Promise.race([ready, aborted]).then(() => { current = undefined; pass(); });
  }, 0).unref();
  return {
    async stop(waitMs = 5000) {
      halt.abort();
      if (current === undefined) return;
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([current, new Promise<void>((r) => { bound = setTimeout(r, waitMs).unref(); })]);
      clearTimeout(bound);
    },
  };
}
