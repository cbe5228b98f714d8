import { setTimeout as sleep } from "node:timers/promises";
import { domainErrorOf } from "../../libs/errors/domain-error.js";
import type { HeldLease } from "./lease-take.js";
import type { OutageBudget } from "./outage-budget.js";
import type { LeasePort } from "./ports.js";

/**
 * Gives `lease` back once its build's record is final, so the next request
 * for the image need not wait for it to expire. Also a lease this process
 * stopped renewing (the database away past the budget): the release names
 * its fencing token, so it ends the lease only while no one else took it.
 * While the database stays away past the budget, the release is retried
 * until the lease would have expired anyway (`ttlMs` from now), so a
 * database back within that time frees the image for the next request at
 * once. Best effort otherwise: a lease refused or never reached expires on
 * its own. Once `stopping` aborts (the server shuts down) nothing waits any
 * more: one last attempt, so shutdown is not held for a lease's lifetime.
 */
export async function releaseLease(leases: LeasePort, budget: OutageBudget, lease: HeldLease, ttlMs = 0, stopping?: AbortSignal): Promise<void> {
  const until = Date.now() + ttlMs;
  const release = () => leases.release({ key: lease.key, holder: lease.holder, token: lease.token });
  const unavailable = (err: unknown) => domainErrorOf(err).code === "unavailable";
  try {
    await (stopping?.aborted === true ? release() : budget.run(`releasing build lease ${lease.key}`, release, stopping));
    return;
  } catch (err) {
    if (!unavailable(err)) return;
  }
  for (let delay = 500; Date.now() < until && stopping?.aborted !== true; delay = Math.min(2000, delay * 2)) {
    await sleep(Math.min(delay, Math.max(0, until - Date.now())), undefined, stopping ? { signal: stopping } : {}).catch(() => undefined);
    try {
      await release();
      return;
    } catch (err) {
      if (!unavailable(err)) return;
    }
  }
}
