import { domainErrorOf } from "../../libs/errors/domain-error.js";
import { LeaseLostError } from "./flow-errors.js";
import type { HeldLease } from "./lease-take.js";
import type { LeasePort } from "./ports.js";

/** A lease being renewed; `lost` aborts (with a `LeaseLostError`, code `aborted`) when it can no longer be trusted. */
export interface KeptLease {
  readonly lost: AbortSignal;
  /** Stops renewing (the build ended). */
  stop(): void;
}

/** Timing of `keepLease`. */
export interface KeepLeaseOptions {
  readonly ttlMs: number;
  readonly now?: () => number;
}

/**
 * Renews `lease` every third of its TTL. It is lost — `lost` aborts, and
 * the build must stop — when a renewal is refused (the lease expired or
 * changed hands), or when no renewal succeeded for the TTL less a margin
 * (a sixth of it, at least 500 ms): the holder gives up before the lease
 * could expire and another process take it, whatever the reason (a
 * database away, a process stopped and resumed). Deadlines are checked
 * against the wall clock at every tick, so a resumed process sees at once
 * that its time ran out.
 */
export function keepLease(leases: LeasePort, lease: HeldLease, opts: KeepLeaseOptions): KeptLease {
  const now = opts.now ?? Date.now;
  const ttl = opts.ttlMs;
  const margin = Math.max(500, Math.floor(ttl / 6));
  const lost = new AbortController();
  let lastRenewedFrom = lease.acquiredAt;
  let inFlight = false;
  let stopped = false;

  const lose = (why: string): void => {
    if (lost.signal.aborted || stopped) return;
    clearInterval(ticker);
    clearTimeout(deadline);
    lost.abort(new LeaseLostError(lease.key, why));
  };
  const checkDeadline = (): boolean => {
    const silentFor = now() - lastRenewedFrom;
    if (silentFor < ttl - margin) return false;
    lose(`not renewed for ${(silentFor / 1000).toFixed(1)} s, past its ${ttl / 1000} s time to live less ${margin / 1000} s`);
    return true;
  };
  const armDeadline = (): NodeJS.Timeout => setTimeout(checkDeadline, Math.max(0, lastRenewedFrom + ttl - margin - now()));
  const tick = (): void => {
    if (checkDeadline() || inFlight) return;
    inFlight = true;
    const sentAt = now();
    leases
      .renew({ key: lease.key, holder: lease.holder, token: lease.token, ttlMs: ttl })
      .then(() => {
        if (lost.signal.aborted || stopped) return;
        lastRenewedFrom = sentAt;
        clearTimeout(deadline);
        deadline = armDeadline();
      })
      .catch((err: unknown) => {
        const error = domainErrorOf(err);
        // Away or slow: the deadline decides. Refused: it is gone now.
        if (error.code === "failedPrecondition") lose(`renewal refused: ${error.message}`);
      })
      .finally(() => (inFlight = false));
  };

  const ticker = setInterval(tick, Math.max(100, Math.floor(ttl / 3)));
  let deadline = armDeadline();
  return {
    lost: lost.signal,
    stop() {
      stopped = true;
      clearInterval(ticker);
      clearTimeout(deadline);
    },
  };
}
