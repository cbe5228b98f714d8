import type { HeldLease } from "./lease-take.js";
import type { OutageBudget } from "./outage-budget.js";
import type { LeasePort } from "./ports.js";

/**
 * Gives `lease` back once its build's record is final, so the next request
 * for the image need not wait for it to expire. Best effort: a lease that
 * could not be released (lost, or the database away past the budget)
 * expires on its own.
 */
export async function releaseLease(leases: LeasePort, budget: OutageBudget, lease: HeldLease): Promise<void> {
  await budget
    .run(`releasing build lease ${lease.key}`, () => leases.release({ key: lease.key, holder: lease.holder, token: lease.token }))
    .catch(() => undefined);
}
