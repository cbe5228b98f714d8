import { setTimeout as sleep } from "node:timers/promises";
import { domainErrorOf } from "../../libs/errors/domain-error.js";
import { MetadataOutageError } from "./flow-errors.js";

/**
 * Runs metadata calls through an outage: a call failing with `unavailable`
 * (the database is away) is retried with backoff, and callers see the
 * failure (`MetadataOutageError`) only once the outage has lasted the
 * whole budget; any other failure passes at once, as a domain error. The outage
 * clock is shared by every call made through one budget (one build), starts
 * at the first failure and stops at the next success.
 */
export interface OutageBudget {
  /**
   * Runs `op`, retrying it while the metadata is unavailable; `what` names
   * the write in the final error. Once `stop` aborts, the next failure is final.
   */
  run<T>(what: string, op: () => Promise<T>, stop?: AbortSignal): Promise<T>;
}

/** Timing of an `OutageBudget`. */
export interface OutageBudgetOptions {
  /** `[metadata] outage_budget_secs`, in ms. */
  readonly budgetMs: number;
  /** First retry delay, doubled up to `maxDelayMs`; default 100 ms and 2 s. */
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly now?: () => number;
}

/** Creates a budget whose clock starts at the first `unavailable`. */
export function createOutageBudget(opts: OutageBudgetOptions): OutageBudget {
  const now = opts.now ?? Date.now;
  const first = opts.firstDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 2000;
  let since: number | undefined;
  return {
    async run(what, op, stop) {
      for (let delay = first; ; delay = Math.min(max, delay * 2)) {
        try {
          const result = await op();
          since = undefined;
          return result;
        } catch (err) {
          const error = domainErrorOf(err);
          if (error.code !== "unavailable") throw error;
          since ??= now();
          const left = since + opts.budgetMs - now();
          if (left <= 0 || stop?.aborted === true) throw new MetadataOutageError(what, opts.budgetMs, error.message, { cause: error });
          await sleep(Math.min(delay, left), undefined, stop ? { signal: stop } : {}).catch(() => undefined);
        }
      }
    },
  };
}
