import { isPidAlive } from "../../libs/lock/pid-alive.js";
import { isDeadLocalHolder, type HolderIdentity } from "./holder-identity.js";
import type { OutageBudget } from "./outage-budget.js";
import type { LeasePort } from "./ports.js";

/** A build lease this process holds: its fencing token guards every record write. */
export interface HeldLease {
  readonly key: string;
  readonly holder: string;
  readonly token: bigint;
  /** When the acquiring call was sent (epoch ms): the lease lives at most its TTL from then. */
  readonly acquiredAt: number;
}

/** What `takeLease` found: the lease is ours (perhaps taken from a dead holder), or another live holder has it. */
export type TakeResult =
  | { readonly taken: true; readonly lease: HeldLease; readonly replaced: string | undefined }
  | { readonly taken: false; readonly holder: string };

/** What taking a lease needs. */
export interface TakeLeaseDeps {
  readonly leases: LeasePort;
  readonly budget: OutageBudget;
  readonly self: HolderIdentity;
  readonly ttlMs: number;
  /** Whether a pid on this host runs; default `isPidAlive`. */
  readonly isAlive?: (pid: number) => boolean;
}

/**
 * Takes the lease `key` for this process when it is free or expired. When
 * another process on this host holds it and that process is gone (killed,
 * crashed), the lease is taken from it at once, and the metadata marks its
 * build abandoned, instead of waiting for the lease to expire.
 */
export async function takeLease(deps: TakeLeaseDeps, key: string): Promise<TakeResult> {
  const { leases, budget, self, ttlMs } = deps;
  const acquiredAt = Date.now();
  const first = await budget.run(`taking build lease ${key}`, () => leases.acquire({ key, holder: self.text, ttlMs }));
  if (first.acquired) return { taken: true, lease: held(key, self, first.token, acquiredAt), replaced: undefined };
  const holder = first.holder;
  if (!isDeadLocalHolder(holder, self, deps.isAlive ?? isPidAlive)) return { taken: false, holder };
  const retakenAt = Date.now();
  const again = await budget.run(`taking build lease ${key} from ${holder}`, () =>
    leases.acquire({ key, holder: self.text, ttlMs, replaceHolder: holder }),
  );
  if (again.acquired) return { taken: true, lease: held(key, self, again.token, retakenAt), replaced: holder };
  return { taken: false, holder: again.holder };
}

function held(key: string, self: HolderIdentity, token: bigint, acquiredAt: number): HeldLease {
  return { key, holder: self.text, token, acquiredAt };
}
