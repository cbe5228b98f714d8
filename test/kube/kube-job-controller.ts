import { randomBytes } from "node:crypto";
import type { V1Job, V1JobCondition, V1Pod } from "@kubernetes/client-node";
import type { KubeObject, KubeStore } from "./kube-store.js";

const podSuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";

/**
 * The Job controller of the test cluster: for a new Job it creates one pod
 * `<job>-<5 random chars>` from the template, labelled `job-name`,
 * `controller-uid` (and their `batch.kubernetes.io/` forms), owned by the Job
 * (controller: true); it marks the Job Complete or Failed
 * (`BackoffLimitExceeded`; `backoffLimit` is taken as 0, no retries) from the
 * pod's phase, and at `activeDeadlineSeconds` deletes the running pod and
 * marks the Job Failed with reason `DeadlineExceeded`.
 * `ttlSecondsAfterFinished` is ignored: finished Jobs stay until deleted,
 * which makes a missing clean-up visible to the tests.
 */
export class JobController {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly store: KubeStore) {
    store.subscribe(undefined, (e) => {
      if (e.resource === "jobs" && e.type === "ADDED") setImmediate(() => this.#startJob(e.object as V1Job & KubeObject));
      if (e.resource === "jobs" && e.type === "DELETED") this.#clear(e.object);
      if (e.resource === "pods" && e.type === "MODIFIED") this.#podChanged(e.object as V1Pod & KubeObject);
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
    for (const p of this.store.list("pods", ns, `controller-uid=${uid}`)) {
      try { this.store.delete("pods", ns, p.metadata?.name ?? "", "Background"); } catch { /* gone */ }
    }
    this.#finish(ns, name, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline");
  }

  #podChanged(pod: V1Pod): void {
    const owner = pod.metadata?.ownerReferences?.find((r) => r.kind === "Job" && r.controller === true);
    if (owner === undefined) return;
    const ns = pod.metadata?.namespace ?? "";
    if (pod.status?.phase === "Succeeded") this.#finish(ns, owner.name, "Complete", "", "");
    if (pod.status?.phase === "Failed") this.#finish(ns, owner.name, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
  }

  #finish(ns: string, name: string, type: "Complete" | "Failed", reason: string, message: string): void {
    this.#setJob(ns, name, (j) => {
      if ((j.status?.conditions ?? []).some((c) => c.type === "Complete" || c.type === "Failed")) return;
      const now = new Date();
      const c: V1JobCondition = { type, status: "True", lastProbeTime: now, lastTransitionTime: now, ...(reason ? { reason, message } : {}) };
      j.status = { ...j.status, active: 0, ...(type === "Complete" ? { succeeded: 1, completionTime: now } : { failed: 1 }), conditions: [c] };
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
