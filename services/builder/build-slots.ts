import { DomainError } from "../../libs/errors/domain-error.js";

/** No build slot freed up within `[system] max_build_wait_secs`. */
export class BuildWaitExceededError extends DomainError {
  constructor(readonly waitedSecs: number, readonly capacity: number) {
    super(
      "resourceExhausted",
      `no build slot became free within ${waitedSecs}s (system.max_concurrent_builds = ${capacity}): retry later or raise the limit`,
    );
  }
}

/**
 * Every slot is taken and `[builder] max_queue` builds already wait: refused
 * at once rather than left hanging, with a hint of when to retry
 * (`retryAfterSecs`, sent as the `retry-after` trailer).
 */
export class BuildQueueFullError extends DomainError {
  constructor(readonly waiting: number, readonly capacity: number, readonly retryAfterSecs: number) {
    super(
      "resourceExhausted",
      `the build queue is full: ${waiting === 1 ? "1 build waits" : `${waiting} builds wait`} for ${capacity === 1 ? "1 slot" : `${capacity} slots`} (builder.max_queue = ${waiting}): retry in ${retryAfterSecs}s or on another replica`,
    );
  }
}

/** The wait for a slot was abandoned by the caller. */
export class BuildWaitCanceledError extends DomainError {
  constructor() {
    super("canceled", "build canceled while waiting for a build slot");
  }
}

/** A held slot; `release` is idempotent. */
export interface BuildSlot {
  release(): void;
}

/** Options of `createBuildSlots`. */
export interface BuildSlotsOptions {
  /** How many builds run at once (`[system] max_concurrent_builds`). */
  readonly capacity: number;
  /** Longest wait for a slot (`[system] max_build_wait_secs`). */
  readonly maxWaitSecs: number;
  /** Most builds waiting at once (`[builder] max_queue`); more are refused with `BuildQueueFullError`. Unbounded when absent. */
  readonly maxQueue?: number;
  /** The retry hint a refused caller gets, in seconds. Default 10. */
  readonly retryAfterSecs?: number;
}

/** The process-wide build semaphore with a FIFO queue whose positions are visible. */
export interface BuildSlots {
  /**
   * Waits for a slot. `onQueued(position)` is called when the caller has to
   * wait, and again each time it moves up (1 = next).
   */
  acquire(signal: AbortSignal, onQueued: (position: number) => void): Promise<BuildSlot>;
  readonly capacity: number;
  readonly running: number;
  readonly queued: number;
}

const defaultRetryAfterSecs = 10;

interface Waiter {
  grant(): void;
  notify(position: number): void;
}

/**
 * Creates the build semaphore. Unlike OpenRun's, the wait honours the
 * caller's cancellation and reports queue positions as they change.
 */
export function createBuildSlots(options: BuildSlotsOptions): BuildSlots {
  let running = 0;
  const waiters: Waiter[] = [];

  const renumber = (): void => waiters.forEach((w, i) => w.notify(i + 1));

  const makeSlot = (): BuildSlot => {
    let held = true;
    return {
      release() {
        if (!held) return;
        held = false;
        const next = waiters.shift();
        if (next) {
          next.grant();
          renumber();
        } else {
          running--;
        }
      },
    };
  };

  return {
    get capacity() {
      return options.capacity;
    },
    get running() {
      return running;
    },
    get queued() {
      return waiters.length;
    },
    acquire(signal, onQueued) {
      if (signal.aborted) return Promise.reject(new BuildWaitCanceledError());
      if (running < options.capacity) {
        running++;
        return Promise.resolve(makeSlot());
      }
      if (options.maxQueue !== undefined && waiters.length >= options.maxQueue) {
        return Promise.reject(new BuildQueueFullError(waiters.length, options.capacity, options.retryAfterSecs ?? defaultRetryAfterSecs));
      }
      return new Promise<BuildSlot>((resolve, reject) => {
        const leave = (err: Error): void => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          cleanup();
          renumber();
          reject(err);
        };
        const onAbort = (): void => leave(new BuildWaitCanceledError());
        const timer = setTimeout(
          () => leave(new BuildWaitExceededError(options.maxWaitSecs, options.capacity)),
          options.maxWaitSecs * 1000,
        );
        const cleanup = (): void => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
        };
        let lastPosition = 0;
        const waiter: Waiter = {
          grant() {
            cleanup();
            resolve(makeSlot());
          },
          notify(position) {
            if (position !== lastPosition) {
              lastPosition = position;
              onQueued(position);
            }
          },
        };
        signal.addEventListener("abort", onAbort, { once: true });
        waiters.push(waiter);
        waiter.notify(waiters.length);
      });
    },
  };
}
