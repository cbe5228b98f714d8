import { randomBytes } from "node:crypto";
import type { V1Job, V1JobCondition, V1Pod } from "@kubernetes/client-node";
import type { KubeObject, KubeStore } from "./kube-store.js";

const podSuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";

export interface JobControllerOptions {
  /**
   * How `activeDeadlineSeconds` ends a Job's pods. `delete` (the default)
   * removes them at once and marks the Job Failed. `terminate` does what a
   * real cluster does (Kubernetes 1.31+): it marks the Job `FailureTarget`,
   * deletes its pods gracefully (a `deletionTimestamp`: the kubelet kills the
   * container, reports it terminated with exit code 137, then removes the
   * pod), and adds `Failed` once no pod is left.
   */
  readonly deadline?: "delete" | "terminate";
}

/**
 * The Job controller of the test cluster: for a new Job it creates one pod
 * `<job>-<5 random chars>` from the template, labelled `job-name`,
 * `controller-uid` (and their `batch.kubernetes.io/` forms), owned by the Job
 * (controller: true); it marks the Job Complete or Failed
 * (`BackoffLimitExceeded`; `backoffLimit` is taken as 0, no retries) from the
 * pod's phase, and at `activeDeadlineSeconds` deletes the running pod and
 * marks the Job Failed with reason `DeadlineExceeded` (or, with
 * `deadline: "terminate"`, ends the pod as a real cluster does).
 * `ttlSecondsAfterFinished` is ignored: finished Jobs stay until deleted,
 * which makes a missing clean-up visible to the tests.
 */
export class JobController {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly store: KubeStore, private readonly opts: JobControllerOptions = {}) {
    store.subscribe(undefined, (e) => {
      if (e.resource === "jobs" && e.type === "ADDED") setImmediate(() => this.#startJob(e.object as V1Job & KubeObject));
      if (e.resource === "jobs" && e.type === "DELETED") this.#clear(e.object);
      if (e.resource === "pods" && e.type === "MODIFIED") this.#podChanged(e.object as V1Pod & KubeObject);
      if (e.resource === "pods" && e.type === "DELETED") this.#podGone(e.object as V1Pod & KubeObject);
    });
  }

  /** Stops the deadline timers. */
  close(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  #startJob(job: V1Job): void {
    const ns = job.metadata?.namespace ?? "";
    const name = job.metadata?.name ?? "";
    const uid = job.metadata?.uid ?? "";
    let suffix = "";
    for (const b of randomBytes(5)) suffix += podSuffixAlphabet[b % podSuffixAlphabet.length];
    const labels = { ...job.spec?.template.metadata?.labels, "controller-uid": uid, "job-name": name, "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name };
    try {
      this.store.create("pods", ns, {
        metadata: { name: `${name}-${suffix}`, labels, ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name, uid, controller: true, blockOwnerDeletion: true }] },
        spec: structuredClone(job.spec?.template.spec),
        status: { phase: "Pending" },
      });
      this.#setJob(ns, name, (j) => { j.status = { active: 1, startTime: new Date() }; });
    } catch { return; /* the Job was deleted before its pod was made */ }
    const deadline = job.spec?.activeDeadlineSeconds;
    if (deadline !== undefined) this.#timers.set(uid, setTimeout(() => this.#deadline(ns, name, uid), deadline * 1000));
  }

  #deadline(ns: string, name: string, uid: string): void {
    this.#timers.delete(uid);
    if (this.opts.deadline === "terminate") { this.#terminate(ns, name, uid); return; }
    for (const p of this.store.list("pods", ns, `controller-uid=${uid}`)) {
      try { this.store.delete("pods", ns, p.metadata?.name ?? "", "Background"); } catch { /* gone */ }
    }
    this.#finish(ns, name, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline");
  }

  /** The deadline as Kubernetes 1.31+ handles it: `FailureTarget` first, pods deleted gracefully, `Failed` once they are gone. */
  #terminate(ns: string, name: string, uid: string): void {
    const reason = "DeadlineExceeded";
    const message = "Job was active longer than specified deadline";
    this.#setJob(ns, name, (j) => { j.status = { ...j.status, conditions: [...(j.status?.conditions ?? []), condition("FailureTarget", reason, message)] }; });
    const pods = this.store.list("pods", ns, `controller-uid=${uid}`);
    for (const p of pods) {
      try {
        this.store.update("pods", ns, p.metadata?.name ?? "", (o) => {
          o.metadata = { ...o.metadata, deletionTimestamp: new Date().toISOString() as unknown as Date, deletionGracePeriodSeconds: 30 };
        });
      } catch { /* gone */ }
    }
    if (pods.length === 0) this.#finish(ns, name, "Failed", reason, message);
  }

  /** A pod of a Job marked `FailureTarget` went away: the Job fails, with the same reason, once none is left. */
  #podGone(pod: V1Pod): void {
    const owner = pod.metadata?.ownerReferences?.find((r) => r.kind === "Job" && r.controller === true);
    if (owner === undefined) return;
    const ns = pod.metadata?.namespace ?? "";
    let target: V1JobCondition | undefined;
    try { target = (this.store.get("jobs", ns, owner.name) as V1Job).status?.conditions?.find((c) => c.type === "FailureTarget"); } catch { return; }
    if (target === undefined || this.store.list("pods", ns, `controller-uid=${owner.uid}`).length > 0) return;
    this.#finish(ns, owner.name, "Failed", target.reason ?? "", target.message ?? "");
  }

  #podChanged(pod: V1Pod): void {
    const owner = pod.metadata?.ownerReferences?.find((r) => r.kind === "Job" && r.controller === true);
    if (owner === undefined || pod.metadata?.deletionTimestamp !== undefined) return; // a terminating pod is the deadline's, not a failure of its own
    const ns = pod.metadata?.namespace ?? "";
    if (pod.status?.phase === "Succeeded") this.#finish(ns, owner.name, "Complete", "", "");
    if (pod.status?.phase === "Failed") this.#finish(ns, owner.name, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
  }

  #finish(ns: string, name: string, type: "Complete" | "Failed", reason: string, message: string): void {
    this.#setJob(ns, name, (j) => {
      if ((j.status?.conditions ?? []).some((c) => c.type === "Complete" || c.type === "Failed")) return;
      const now = new Date();
      const c = condition(type, reason, message);
      j.status = { ...j.status, active: 0, ...(type === "Complete" ? { succeeded: 1, completionTime: now } : { failed: 1 }), conditions: [...(j.status?.conditions ?? []), c] };
    });
    const uid = this.#uidOf(ns, name);
    if (uid !== undefined) this.#clear({ metadata: { uid } });
  }

  #setJob(ns: string, name: string, mut: (j: V1Job) => void): void {
    try { this.store.update("jobs", ns, name, (o) => mut(o as V1Job)); } catch { /* deleted */ }
  }

  #uidOf(ns: string, name: string): string | undefined {
    try { return this.store.get("jobs", ns, name).metadata?.uid; } catch { return undefined; }
  }

  #clear(obj: KubeObject): void {
    const uid = obj.metadata?.uid ?? "";
    const t = this.#timers.get(uid);
    if (t !== undefined) clearTimeout(t);
    this.#timers.delete(uid);
  }
}

function condition(type: string, reason: string, message: string): V1JobCondition {
  const now = new Date();
  return { type, status: "True", lastProbeTime: now, lastTransitionTime: now, ...(reason ? { reason, message } : {}) };
}
