import { answerRefusal } from "./edge-answer.js";
import type { DualHandler } from "./listeners.js";
import { shuttingDownRefusal } from "./server-shutdown.js";

/**
 * Counts the calls that start builds (EnsureImage, a builder's Build,
 * OpenRun's delegate route) so shutdown can wait for them, and refuses new
 * ones with `unavailable` once shutdown began, while every other call
 * (health probes, build records, logs) is still answered.
 */
export interface BuildDrain {
  /** Wraps the port's handler: counts build calls, refuses them once closed. */
  wrap(next: DualHandler): DualHandler;
  /** From now on new build calls are refused. */
  close(): void;
  /** Resolves when no build call is in flight. */
  idle(): Promise<void>;
  /** Build calls in flight. */
  readonly running: number;
}

/** Creates the drain for the request paths (`/pkg.Service/Method`, `/_openrun/delegate_build`) that start builds. */
export function createBuildDrain(paths: ReadonlySet<string>): BuildDrain {
  let running = 0;
  let closed = false;
  let waiters: (() => void)[] = [];
  const settle = (): void => {
    if (running > 0) return;
    const ws = waiters;
    waiters = [];
    for (const w of ws) w();
  };
  return {
    wrap(next) {
      if (paths.size === 0) return next;
      return (req, res) => {
        const path = (req.url ?? "/").split("?")[0] ?? "/";
        if (!paths.has(path)) return next(req, res);
        if (closed) return answerRefusal(req, res, "unavailable", shuttingDownRefusal);
        running++;
        res.once("close", () => {
          running--;
          settle();
        });
        next(req, res);
      };
    },
    close() {
      closed = true;
    },
    idle() {
      return new Promise((resolve) => {
        waiters.push(resolve);
        settle();
      });
    },
    get running() {
      return running;
    },
  };
}
