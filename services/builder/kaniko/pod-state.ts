import type { V1Pod } from "@kubernetes/client-node";
import type { ErrorCode } from "../../../libs/errors/domain-error.js";

/** Where a build pod stands, as far as starting the build goes. */
export type PodStart =
  | { readonly kind: "waiting" }
  | { readonly kind: "running" }
  | { readonly kind: "ended"; readonly exitCode: number; readonly reason: string; readonly message: string }
  | { readonly kind: "stuck"; readonly code: ErrorCode; readonly reason: string; readonly message: string };

/** Waiting reasons that will not clear by themselves within a build's start wait. */
const fatalWaiting: Readonly<Record<string, ErrorCode>> = {
  ErrImagePull: "unavailable",
  ImagePullBackOff: "unavailable",
  InvalidImageName: "failedPrecondition",
  CreateContainerConfigError: "failedPrecondition",
  CreateContainerError: "failedPrecondition",
  CrashLoopBackOff: "failedPrecondition",
};

/**
 * Reads a pod's status for the start wait: running, already ended, or stuck
 * for a reason worth telling the user now (Unschedulable, an image pull
 * error, a bad container config) instead of after a timeout.
 */
export function podStart(pod: V1Pod, container: string): PodStart {
  const unschedulable = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable");
  if (unschedulable !== undefined) return { kind: "stuck", code: "failedPrecondition", reason: "Unschedulable", message: unschedulable.message ?? "" };
  const cs = pod.status?.containerStatuses?.find((s) => s.name === container);
  const t = cs?.state?.terminated;
  if (t !== undefined) return { kind: "ended", exitCode: t.exitCode, reason: t.reason ?? "", message: t.message ?? "" };
  if (cs?.state?.running !== undefined) return { kind: "running" };
  const w = cs?.state?.waiting;
  const code = w?.reason !== undefined ? fatalWaiting[w.reason] : undefined;
  if (w !== undefined && code !== undefined) return { kind: "stuck", code, reason: w.reason ?? "", message: w.message ?? "" };
  if (pod.status?.phase === "Failed") return { kind: "stuck", code: "failedPrecondition", reason: pod.status.reason ?? "Failed", message: pod.status.message ?? "" };
  return { kind: "waiting" };
}
