import type { LogWaker } from "../db-bundle.js";
import { createLocalWaiters } from "../local-waiters.js";

/**
 * SQLite has no notifications: followers in other processes poll every
 * `pollMs`; followers in this process are woken at once.
 */
export function createSqliteLogWaker(pollMs: number): LogWaker {
  const local = createLocalWaiters();
  return {
    async announce() {},
    wakeLocal: (id) => local.wake(id),
    wait: (id, signal) => local.wait(id, pollMs, signal),
    async close() {},
  };
}
