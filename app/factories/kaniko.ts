import type { KubeConfig } from "@kubernetes/client-node";
import type { ResolvedConfig } from "../../libs/config/config-types.js";
import type { BuildHeader } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import type { ImageBuilder } from "../../services/builder/image-builder.js";
import { buildLiveness } from "../../services/builder/kaniko/build-liveness.js";
import { createKanikoBuilder } from "../../services/builder/kaniko/kaniko-builder.js";
import { kanikoOptionsFromConfig } from "../../services/builder/kaniko/kaniko-config.js";
import { kanikoDryRunLines } from "../../services/builder/kaniko/kaniko-dry-run.js";
import { sweepLeftovers } from "../../services/builder/kaniko/kaniko-sweeper.js";
import { loadKubeConfig } from "../../services/builder/kaniko/kube-api.js";
import { scheduleSweeps } from "../../services/builder/kaniko/sweep-schedule.js";
import type { ServiceContext } from "../service-registry.js";

/**
 * The kaniko mode of this configuration, with its sweeper running. Loaded
 * only when the mode is chosen, so other modes never load the Kubernetes
 * client.
 */
export function createKanikoMode(
  config: ResolvedConfig,
  ctx: ServiceContext,
  checkDigest: (reference: string, signal: AbortSignal) => Promise<string>,
): ImageBuilder {
  const kubeConfig = loadKubeConfig(config.kubernetes.kubeconfig);
  startKanikoSweeper(ctx, kubeConfig, config.kubernetes.namespace);
  return createKanikoBuilder({ kubeConfig, options: kanikoOptionsFromConfig(config), checkDigest });
}

/** How often the kaniko sweeper looks for leftovers after its first pass at start. */
const sweepIntervalMs = 5 * 60_000;

/**
 * Removes the Jobs and Secrets that builds of a crashed main install left
 * in the namespace: once at start, then every five minutes until shutdown.
 * A build counts as alive while its metadata record is queued, running or
 * pushing (the lease reaper abandons those whose lease lapsed).
 */
function startKanikoSweeper(ctx: ServiceContext, kubeConfig: KubeConfig, namespace: string): void {
  const schedule = scheduleSweeps({
    sweep: (isLeaseAlive) => sweepLeftovers({ kubeConfig, namespace, installId: kanikoOptionsFromConfig(ctx.config.current()).installId }, isLeaseAlive),
    isLeaseAlive: buildLiveness(ctx.clients.metadata, ctx.signal),
    intervalMs: sweepIntervalMs,
    ready: () => metadataServing(ctx),
    signal: ctx.signal,
    onSwept: (r) => {
      if (r.jobs.length + r.secrets.length > 0) ctx.log.info("kaniko sweeper removed leftovers", { namespace, jobs: r.jobs, secrets: r.secrets });
    },
    onError: (err) => ctx.log.error("kaniko sweeper failed", { namespace, error: err instanceof Error ? err.message : String(err) }),
  });
  ctx.defer(() => schedule.stop());
}

/** Resolves once the metadata service mounted here has its database (at once when it runs elsewhere). */
function metadataServing(ctx: ServiceContext): Promise<void> {
  const name = MetadataService.typeName;
  return new Promise((resolve) => {
    if (ctx.health.get(name) !== "notServing") return resolve();
    const off = ctx.health.subscribe((service, status) => {
      if (service === name && status === "serving") {
        off();
        resolve();
      }
    });
    ctx.signal.addEventListener("abort", () => { off(); resolve(); }, { once: true });
  });
}

/**
 * The Kubernetes objects a kaniko build with this header would create, as
 * JSON lines with secret data redacted — planned with the very options the
 * kaniko builder of this configuration uses. For `buildplane build --dry-run`.
 */
export function kanikoDryRun(config: ResolvedConfig, header: BuildHeader): string[] {
  return kanikoDryRunLines(header, kanikoOptionsFromConfig(config));
}

