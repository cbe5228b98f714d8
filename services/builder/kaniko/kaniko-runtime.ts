import { buildLiveness } from "./build-liveness.js";
import type { BuilderModeDeps } from "../builder-mode.js";
import type { ImageBuilder } from "../image-builder.js";
import { registryDigestCheck } from "../push-verification.js";
import { createKanikoBuilder } from "./kaniko-builder.js";
import { kanikoOptionsFromConfig } from "./kaniko-config.js";
import { sweepLeftovers } from "./kaniko-sweeper.js";
import { loadKubeConfig } from "./kube-api.js";
import { scheduleSweeps } from "./sweep-schedule.js";

/** How often the kaniko sweeper looks for leftovers after its first pass at start. */
const sweepIntervalMs = 5 * 60_000;

/**
 * The kaniko builder of this configuration, with its sweeper running. Loaded
 * by `kanikoMode` only when the mode is chosen, so other modes never load
 * the Kubernetes client.
 */
export function createKanikoRuntime(deps: BuilderModeDeps): ImageBuilder {
  const kubeConfig = loadKubeConfig(deps.config.kubernetes.kubeconfig);
  startKanikoSweeper(deps, deps.config.kubernetes.namespace);
  return createKanikoBuilder({ kubeConfig, options: kanikoOptionsFromConfig(deps.config), checkDigest: registryDigestCheck(deps.registries) });

  /**
   * Removes the Jobs and Secrets that builds of a crashed main install left
   * in the namespace: once at start, then every five minutes until shutdown.
   * A build counts as alive while its metadata record is queued, running or
   * pushing (the lease reaper abandons those whose lease lapsed).
   */
  function startKanikoSweeper(d: BuilderModeDeps, namespace: string): void {
    const schedule = scheduleSweeps({
      sweep: (isLeaseAlive) => sweepLeftovers({ kubeConfig, namespace, installId: kanikoOptionsFromConfig(d.currentConfig()).installId }, isLeaseAlive),
      isLeaseAlive: buildLiveness(d.metadata, d.signal),
      intervalMs: sweepIntervalMs,
      ready: () => d.metadataReady(),
      signal: d.signal,
      onSwept: (r) => {
        if (r.jobs.length + r.secrets.length > 0) d.log.info("kaniko sweeper removed leftovers", { namespace, jobs: r.jobs, secrets: r.secrets });
      },
      onError: (err) => d.log.error("kaniko sweeper failed", { namespace, error: err instanceof Error ? err.message : String(err) }),
    });
    d.defer(async () => schedule.stop());
  }
}
