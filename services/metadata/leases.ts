import type { LeaseRecord } from "../../libs/db/records.js";
import { acquireLease, releaseLease, renewLease, type AcquireResult } from "../../libs/db/repositories/leases.js";
import { InvalidFieldError, LeaseNotHeldError } from "./errors.js";
import { reapOnce } from "./lease-reaper.js";
import type { MetadataDeps } from "./metadata-deps.js";

/** Longest lease: a holder must renew rather than claim for hours. */
export const maxLeaseTtlMs = 60 * 60 * 1000;

/** A lease request as given: key, holder and, for renew/release, the token. */
export interface LeaseClaim {
  readonly key: string;
  readonly holder: string;
  readonly token: number;
}

/**
 * Takes `key` for `holder` for `ttlMs` when free or expired; see
 * `acquireLease`. With `replaceHolder`, also when that holder still holds
 * it (the caller saw its process dead): the builds bound to the replaced
 * token are then marked abandoned at once, not at the next reaper round.
 */
export async function acquire(deps: MetadataDeps, key: string, holder: string, ttlMs: number, replaceHolder = ""): Promise<AcquireResult> {
  checkNames(key, holder);
  checkTtl(ttlMs);
  if (replaceHolder !== "" && replaceHolder === holder) {
    throw new InvalidFieldError("replace_holder", replaceHolder, "another holder than the caller's own");
  }
  const { db, capabilities } = deps.database();
  const result = await acquireLease(db, capabilities, key, holder, ttlMs, replaceHolder);
  if (result.acquired && replaceHolder !== "") await reapOnce(deps, key);
  return result;
}

/** Extends a held lease; `LeaseNotHeldError` when it expired or changed hands. */
export async function renew(deps: MetadataDeps, claim: LeaseClaim, ttlMs: number): Promise<LeaseRecord> {
  checkNames(claim.key, claim.holder);
  checkTtl(ttlMs);
  const { db, capabilities } = deps.database();
  const lease = await renewLease(db, capabilities, claim, ttlMs);
  if (!lease) throw new LeaseNotHeldError(claim.key, claim.holder, claim.token);
  return lease;
}

/** Ends a held lease now; false when the caller no longer held it. */
export async function release(deps: MetadataDeps, claim: LeaseClaim): Promise<boolean> {
  checkNames(claim.key, claim.holder);
  return releaseLease(deps.database().db, claim);
}

function checkNames(key: string, holder: string): void {
  if (key.trim() === "") throw new InvalidFieldError("key", key, "a non-empty lease key such as build:<image key>");
  if (holder.trim() === "") throw new InvalidFieldError("holder", holder, "a non-empty holder name");
}

function checkTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > maxLeaseTtlMs) {
    throw new InvalidFieldError("ttl_ms", String(ttlMs), `1 to ${maxLeaseTtlMs}`);
  }
}
