import { reapAbandonedBuilds } from "../../libs/db/repositories/builds.js";
import { nowOf, type MetadataDeps } from "./metadata-deps.js";

/**
 * Marks `abandoned` the active builds whose lease expired or was taken over
 * (their builder died), and wakes their log followers. Returns their ids.
 * `leaseKey` limits this to the builds of one lease.
 */
export async function reapOnce(deps: MetadataDeps, leaseKey?: string): Promise<string[]> {
  const database = deps.database();
  const ids = await reapAbandonedBuilds(database.db, database.capabilities, nowOf(deps), leaseKey);
  for (const id of ids) {
    await database.logWaker.announce(database.db, id);
    database.logWaker.wakeLocal(id);
  }
  return ids;
}

/**
 * Runs `reapOnce` every `intervalMs` until `signal` aborts. Failures (such
 * as the database being briefly away) are reported and retried next round.
 */
export function startLeaseReaper(
  deps: MetadataDeps,
  opts: { intervalMs: number; signal: AbortSignal; onError?: (err: unknown) => void; onReaped?: (ids: string[]) => void },
): void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    reapOnce(deps)
      .then((ids) => ids.length > 0 && opts.onReaped?.(ids))
      .catch((err: unknown) => opts.onError?.(err))
      .finally(() => (running = false));
  }, opts.intervalMs);
  timer.unref();
  opts.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
