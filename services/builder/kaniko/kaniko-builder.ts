import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import { isDomainError } from "../../../libs/errors/domain-error.js";
import { NoLocalEngineError } from "../builder-mode.js";
import { abortReason } from "../build-errors.js";
import type { BuildJob, BuildOutcome, BuildProgress, ImageBuilder } from "../image-builder.js";
import { verifyPushed, type CheckDigest } from "../push-verification.js";
import { uploadContext } from "./context-upload.js";
import { KanikoBuildFailedError, KanikoTimeoutError, PodStartError } from "./kaniko-errors.js";
import { newNameSuffix } from "./kaniko-names.js";
import type { KanikoOptions } from "./kaniko-options.js";
import { containerName, jobOwnerReference, planKanikoBuild, type KanikoPlan } from "./kaniko-plan.js";
import { createKubeApis, isNotFound, kubeError, type KubeApis } from "./kube-api.js";
import { followLog, type FollowedLog } from "./log-follow.js";
import { podStart, type PodStart } from "./pod-state.js";
import { watchPods } from "./pod-watch.js";

export interface KanikoBuilderDeps {
  readonly kubeConfig: KubeConfig;
  readonly options: KanikoOptions;
  /** HEAD of the pushed manifest in the registry → its digest (libs/registry). */
  readonly checkDigest: CheckDigest;
  /** Random name suffixes; tests may pin them. */
  readonly newSuffix?: () => string;
}

/**
 * The `kaniko` builder mode: one Kubernetes Job per build running the Kaniko
 * executor, the context streamed into its stdin, the log streamed back line
 * by line, and the pushed digest checked in the registry before success.
 * The Job's deadline is the job's own timeout; the lifecycle's timer stops
 * the build at the same moment, whichever notices first.
 * Every exit path (success, failure, timeout, cancel) deletes the Job and
 * its Secrets before the promise settles.
 */
export function createKanikoBuilder(deps: KanikoBuilderDeps): ImageBuilder {
  const apis = createKubeApis(deps.kubeConfig);
  const opts = deps.options;
  return {
    mode: "kaniko",
    nodes: () => [],
    async build(job, onProgress, signal) {
      const plan = planKanikoBuild(job, opts, (deps.newSuffix ?? newNameSuffix)());
      const created: { secrets: string[]; job: boolean } = { secrets: [], job: false };
      let log: FollowedLog | undefined;
      try {
        return await runBuild(apis, deps, plan, job, onProgress, signal, created, (l) => { log = l; });
      } catch (e) {
        if (signal.aborted) throw abortReason(signal, job.buildId);
        if (isDomainError(e)) throw e;
        throw kubeError(`build job "${plan.jobName}"`, e);
      } finally {
        (log as FollowedLog | undefined)?.stop();
        await cleanUp(apis, plan, created);
      }
    },
    async status() {
      return { engine: "", version: "", healthy: true, nodes: [] };
    },
    async hasImage(reference) {
      throw new NoLocalEngineError("kaniko", reference);
    },
    async close() { /* no long-lived connections: watches and logs are per build */ },
  };
}

async function runBuild(apis: KubeApis, deps: KanikoBuilderDeps, plan: KanikoPlan, job: BuildJob,
  onProgress: (p: BuildProgress) => void, signal: AbortSignal,
  created: { secrets: string[]; job: boolean }, setLog: (l: FollowedLog) => void): Promise<BuildOutcome> {
  const ns = plan.namespace;
  const system = (text: string) => onProgress({ type: "log", stream: "system", text });
  // Secrets first, so the pod never waits on a missing mount; owner references follow once the Job has a UID.
  for (const s of plan.secrets) {
    const name = s.metadata?.name ?? "";
    await apis.core.createNamespacedSecret({ namespace: ns, body: s }).catch((e: unknown) => { throw kubeError(`create secret "${name}"`, e); });
    created.secrets.push(name);
  }
  signal.throwIfAborted();
  const made = await apis.batch.createNamespacedJob({ namespace: ns, body: plan.job }).catch((e: unknown) => { throw kubeError(`create job "${plan.jobName}"`, e); });
  created.job = true;
  const uid = made.metadata?.uid ?? "";
  for (const name of created.secrets) {
    const patch = [{ op: "add", path: "/metadata/ownerReferences", value: [jobOwnerReference(plan.jobName, uid)] }];
    await apis.core.patchNamespacedSecret({ name, namespace: ns, body: patch }).catch((e: unknown) => { throw kubeError(`patch secret "${name}"`, e); });
  }
  system(`kaniko job ${plan.jobName} created in namespace ${ns}`);
  const selector = `controller-uid=${uid}`;
  let podName = plan.jobName;
  let last = "Pending";
  const startWait = AbortSignal.any([signal, AbortSignal.timeout(deps.options.podStartTimeoutSecs * 1000)]);
  let started: PodStart;
  try {
    started = await watchPods(deps.kubeConfig, ns, selector, (type, pod) => {
      podName = pod.metadata?.name ?? podName;
      if (type === "DELETED") return { kind: "stuck", code: "unavailable", reason: "Deleted", message: "the pod was deleted before it started" } as const;
      const s = podStart(pod, containerName);
      last = waitingReason(pod) ?? pod.status?.phase ?? last;
      return s.kind === "waiting" ? undefined : s;
    }, startWait);
  } catch (e) {
    if (!signal.aborted && startWait.aborted) throw new PodStartError("unavailable", podName, "StartTimeout", `not running after ${deps.options.podStartTimeoutSecs}s (last state ${last})`);
    throw e;
  }
  if (started.kind === "stuck") {
    if (started.reason === "Deleted") await throwIfDeadline(apis, plan, job.timeoutSecs);
    throw new PodStartError(started.code, podName, started.reason, started.message);
  }
  const log = await followLog(deps.kubeConfig, ns, podName, containerName, (text) => onProgress({ type: "log", stream: "stdout", text }));
  setLog(log);
  if (started.kind === "running") {
    system(`pod ${podName} running: sending the build context`);
    const sent = await uploadContext(deps.kubeConfig, ns, podName, containerName, job.context, deps.options.uploadTimeoutSecs * 1000, signal);
    system(`build context sent (${sent} bytes gzipped)`);
  }
  const ended = started.kind === "ended" ? started : await watchPods(deps.kubeConfig, ns, selector, (type, pod) => {
    if (type === "DELETED") return { kind: "stuck", code: "unavailable", reason: "Deleted", message: "" } as const;
    const s = podStart(pod, containerName);
    return s.kind === "ended" || s.kind === "stuck" ? s : undefined;
  }, signal);
  await Promise.race([log.done, sleep(5000)]);
  if (ended.kind === "stuck") {
    await throwIfDeadline(apis, plan, job.timeoutSecs);
    throw new KanikoBuildFailedError(plan.jobName, `pod ${podName} ${ended.reason === "Deleted" ? "was deleted" : ended.reason}`, log.tail());
  }
  if (ended.exitCode !== 0) {
    // At activeDeadlineSeconds the kubelet kills the container (137) and reports it before the pod goes.
    await throwIfDeadline(apis, plan, job.timeoutSecs);
    throw new KanikoBuildFailedError(plan.jobName, `exit code ${ended.exitCode}`, log.tail());
  }
  const digest = await verifyPushed(deps.checkDigest, { by: `kaniko job "${plan.jobName}"`, reference: job.reference, reported: ended.message.trim(), target: plan.target }, signal);
  onProgress({ type: "pushed", reference: job.reference, digest });
  return { reference: job.reference, digest };
}

/**
 * Throws `KanikoTimeoutError` when the Job failed for its `activeDeadlineSeconds`,
 * so a pod killed or deleted by the deadline is reported as a timeout, not a
 * build failure. Since Kubernetes 1.31 the Job controller marks
 * `FailureTarget` before terminating the pods and adds `Failed` only once
 * they are gone, so either condition counts.
 */
async function throwIfDeadline(apis: KubeApis, plan: KanikoPlan, timeoutSecs: number): Promise<void> {
  const j = await apis.batch.readNamespacedJob({ name: plan.jobName, namespace: plan.namespace }).catch(() => undefined);
  const hit = j?.status?.conditions?.some((c) => (c.type === "Failed" || c.type === "FailureTarget") && c.status === "True" && c.reason === "DeadlineExceeded");
  if (hit === true) throw new KanikoTimeoutError(plan.jobName, timeoutSecs);
}

/** Deletes the Job (pods and owned Secrets go with it) and the Secrets explicitly, bounded by 30 s, NotFound ignored. */
async function cleanUp(apis: KubeApis, plan: KanikoPlan, created: { secrets: string[]; job: boolean }): Promise<void> {
  const ns = plan.namespace;
  const calls: Promise<unknown>[] = [];
  if (created.job) calls.push(apis.batch.deleteNamespacedJob({ name: plan.jobName, namespace: ns, propagationPolicy: "Background" }));
  for (const name of created.secrets) calls.push(apis.core.deleteNamespacedSecret({ name, namespace: ns }));
  const settled = Promise.allSettled(calls.map((c) => c.catch((e: unknown) => { if (!isNotFound(e)) throw e; })));
  await Promise.race([settled, sleep(30_000)]);
}

function waitingReason(pod: V1Pod): string | undefined {
  return pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
