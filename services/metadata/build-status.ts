import { finalStatuses, type BuildStatus } from "../../libs/db/records.js";
import { IllegalTransitionError } from "./errors.js";

/**
 * The build life cycle: where each status may go. Final statuses go nowhere.
 * `queued → abandoned` exists for the lease reaper (a caller that died before
 * its build started).
 */
export const buildTransitions: Readonly<Record<BuildStatus, readonly BuildStatus[]>> = {
  queued: ["running", "canceled", "failed", "abandoned"],
  running: ["pushing", "succeeded", "failed", "canceled", "abandoned"],
  pushing: ["succeeded", "failed", "canceled", "abandoned"],
  succeeded: [],
  failed: [],
  canceled: [],
  abandoned: [],
};

/** True for statuses a build never leaves. */
export function isFinal(status: BuildStatus): boolean {
  return finalStatuses.has(status);
}

/** Throws `IllegalTransitionError` unless `from → to` is allowed (staying put is allowed while not final). */
export function checkTransition(buildId: string, from: BuildStatus, to: BuildStatus): void {
  if (from === to && !isFinal(from)) return;
  if (!buildTransitions[from].includes(to)) throw new IllegalTransitionError(buildId, from, to);
}
