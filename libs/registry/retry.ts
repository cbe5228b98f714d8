import { RegistryError } from "./errors.js";

/** How often and how patiently to retry; defaults suit a registry behind a flaky proxy. */
export interface RetryPolicy {
  /** Total attempts, the first included. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = Object.freeze({ attempts: 5, baseDelayMs: 200, maxDelayMs: 5000 });

/**
 * Runs `op` until it succeeds, fails with a non-retryable error, or the
 * attempts run out. Only errors marked `retryable` (429, 5xx, connection
 * errors) are retried, with exponential backoff and jitter; 401, 403 and
 * 404 never are. The wait ends early when `signal` aborts.
 */
export async function withRetry<T>(
  op: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  onRetry?: (err: RegistryError, attempt: number, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      if (!(err instanceof RegistryError) || !err.retryable || attempt >= policy.attempts || signal?.aborted === true) throw err;
      const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.round(exp / 2 + Math.random() * (exp / 2));
      onRetry?.(err, attempt, delay);
      await sleep(delay, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
