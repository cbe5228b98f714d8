import type { KubeConfig } from "@kubernetes/client-node";
import { createKubeApis, isNotFound, kubeError } from "./kube-api.js";
import { buildIdLabel, installLabel, managedByLabel, managedByValue } from "./kaniko-plan.js";

export interface SweepDeps {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  /** Only objects labelled with this install are considered ("" = every managed object). */
  readonly installId?: string;
}

/** What a sweep removed, by name. */
export interface SweepResult {
  readonly jobs: readonly string[];
  readonly secrets: readonly string[];
}

/**
 * Removes the kaniko Jobs and Secrets of builds whose lease is gone (a main
 * install that crashed mid-build leaves them behind). Objects are found by
 * our managed-by label; the build id is read from the annotation (the label
 * may be cut). Jobs are deleted with Background propagation, so their pods
 * go too.
 */
export async function sweepLeftovers(deps: SweepDeps, isLeaseAlive: (buildId: string) => Promise<boolean> | boolean): Promise<SweepResult> {
  const apis = createKubeApis(deps.kubeConfig);
  const ns = deps.namespace;
  const labelSelector = `${managedByLabel}=${managedByValue}${deps.installId ? `,${installLabel}=${deps.installId}` : ""}`;
  const jobs = await apis.batch.listNamespacedJob({ namespace: ns, labelSelector }).catch((e: unknown) => { throw kubeError("list jobs", e); });
  const secrets = await apis.core.listNamespacedSecret({ namespace: ns, labelSelector }).catch((e: unknown) => { throw kubeError("list secrets", e); });
  const dead = async (meta: { annotations?: Record<string, string>; labels?: Record<string, string> } | undefined) => {
    const id = meta?.annotations?.[buildIdLabel] ?? meta?.labels?.[buildIdLabel];
    return id !== undefined && !(await isLeaseAlive(id));
  };
  const removed = { jobs: [] as string[], secrets: [] as string[] };
  for (const j of jobs.items) {
    const name = j.metadata?.name ?? "";
    if (!(await dead(j.metadata))) continue;
    await apis.batch.deleteNamespacedJob({ name, namespace: ns, propagationPolicy: "Background" })
      .catch((e: unknown) => { if (!isNotFound(e)) throw kubeError(`delete job "${name}"`, e); });
    removed.jobs.push(name);
  }
  for (const s of secrets.items) {
    const name = s.metadata?.name ?? "";
    if (!(await dead(s.metadata))) continue;
    await apis.core.deleteNamespacedSecret({ name, namespace: ns })
      .catch((e: unknown) => { if (!isNotFound(e)) throw kubeError(`delete secret "${name}"`, e); });
    removed.secrets.push(name);
  }
  return removed;
}
