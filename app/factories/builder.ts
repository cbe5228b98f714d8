import { readFileSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";
import type { EffectiveBuilderMode, ResolvedConfig } from "../../libs/config/config-types.js";
import { engineEnvironment } from "../../libs/config/engine-env.js";
import { createEngine, type Engine } from "../../libs/engine/engine.js";
import { DomainError } from "../../libs/errors/domain-error.js";
import { BuilderService, type BuildHeader } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { parseReference } from "../../libs/image/reference.js";
import { createEcrCredentials, ecrRegion } from "../../libs/registry/ecr-credentials.js";
import { createSdkEcrTokenClient } from "../../libs/registry/ecr-sdk-client.js";
import { pushImageArchive } from "../../libs/registry/push-image-archive.js";
import { createRegistryClient, type RegistryClient } from "../../libs/registry/registry-client.js";
import { loadRegistryOptions, registryHost, type RegistryClientOptions } from "../../libs/registry/registry-options.js";
import { mountService, type MountedService } from "../../libs/rpc/service-mount.js";
import { Secret } from "../../libs/secret/secret.js";
import { createBuildSlots } from "../../services/builder/build-slots.js";
import { createCommandBuilder, type CommandEngine } from "../../services/builder/command/command-builder.js";
import { createDelegateBuilder } from "../../services/builder/delegate/delegate-builder.js";
import type { NodeTlsOptions } from "../../services/builder/delegate/grpc-node.js";
import { assertBuilderNodeSettings, createBuilderNodeGuard } from "../../services/builder/delegate/node-guard.js";
import type { ImageBuilder, PushTarget } from "../../services/builder/image-builder.js";
import { createKanikoBuilder } from "../../services/builder/kaniko/kaniko-builder.js";
import { buildLiveness } from "../../services/builder/kaniko/build-liveness.js";
import { kanikoOptionsFromConfig } from "../../services/builder/kaniko/kaniko-config.js";
import { kanikoDryRunLines } from "../../services/builder/kaniko/kaniko-dry-run.js";
import { sweepLeftovers } from "../../services/builder/kaniko/kaniko-sweeper.js";
import { scheduleSweeps } from "../../services/builder/kaniko/sweep-schedule.js";
import { loadKubeConfig } from "../../services/builder/kaniko/kube-api.js";
import { createOpenRunDelegateHandler } from "../../services/builder/openrun/delegate-handler.js";
import { withOpenRunRoutes } from "../../services/builder/openrun/openrun-routes.js";
import { createBuilderService } from "../../services/builder/service.js";
import type { ServiceContext } from "../service-registry.js";
type ModeKind = EffectiveBuilderMode["kind"];

/** How each builder mode is built: exhaustive, so a new mode breaks the compile until handled. */
const modeFactories: Record<ModeKind, (config: ResolvedConfig, engine: () => Promise<Engine>, ctx: ServiceContext) => ImageBuilder> = {
  command: (_config, engine) => createCommandBuilder({ engine: lazyEngine(engine), push: pushToRegistry }),
  kaniko: (config, _engine, ctx) => {
    const kubeConfig = loadKubeConfig(config.kubernetes.kubeconfig);
    startKanikoSweeper(ctx, kubeConfig, config.kubernetes.namespace);
    return createKanikoBuilder({
      kubeConfig,
      options: kanikoOptionsFromConfig(config),
      checkDigest: async (reference, signal) => {
        const digest = await manifestDigest(createRegistryClient(await loadRegistryOptions(config.registry)), reference, signal);
        if (digest === undefined) throw new DomainError("dataLoss", `the build reported a push of ${reference}, but the registry does not have it`);
        return digest;
      },
    });
  },
  delegate: (config) => {
    const mode = config.builder.effectiveMode;
    const token = config.system.builderAuthToken;
    if (mode.kind !== "delegate" || token === undefined) {
      throw new DomainError("failedPrecondition", "builder.mode delegate needs [system] builder_auth_token (or BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN)");
    }
    return createDelegateBuilder({
      urls: mode.urls,
      token,
      maxUploadBytes: config.builder.maxUploadBytes,
      tls: nodeTls(config),
      checkDigest: async (reference, target, signal) => manifestDigest(createRegistryClient(registryClientOptions(target)), reference, signal),
      resolvePushTarget: resolveEcrTarget,
    });
  },
};

/**
 * The builder service in the effective mode (`auto` already decided by the
 * config library), with the process-wide build slots. Calls arriving over
 * the network pass the builder-node guard (`[security] admin_over_tcp`,
 * upload limit), and OpenRun's `POST /_openrun/delegate_build` is served on
 * the same port with the same mode and slots.
 */
export function builderFactory(ctx: ServiceContext): MountedService {
  const config = ctx.config.current();
  assertBuilderNodeSettings({ adminOverTcp: config.security.adminOverTcp, builderAuthToken: config.system.builderAuthToken });
  let engine: Promise<Engine> | undefined;
  const getEngine = (): Promise<Engine> => {
    engine ??= createEngine({ command: config.system.containerCommand, env: engineEnvironment() });
    engine.catch(() => (engine = undefined));
    return engine;
  };
  const mode = config.builder.effectiveMode.kind;
  const builder = modeFactories[mode](config, getEngine, ctx);
  ctx.defer(() => builder.close());
  const slots = createBuildSlots({ capacity: config.system.maxConcurrentBuilds, maxWaitSecs: config.system.maxBuildWaitSecs });
  const service = createBuilderService({
    builder,
    slots,
    defaultTimeoutSecs: config.builder.buildTimeoutSecs,
    ...(mode === "command" ? engineQueries(getEngine, config.system.containerCommand) : {}),
  });
  const openRun = createOpenRunDelegateHandler({
    token: config.system.builderAuthToken,
    adminOverTcp: config.security.adminOverTcp,
    builder,
    slots,
    timeoutSecs: config.builder.buildTimeoutSecs,
    maxUploadBytes: config.builder.maxUploadBytes,
  });
  return {
    ...mountService(BuilderService, service),
    networkInterceptors: [createBuilderNodeGuard({ adminOverTcp: config.security.adminOverTcp, maxUploadBytes: config.builder.maxUploadBytes })],
    httpRoute: (next) => withOpenRunRoutes(openRun, next),
  };
}

/** TLS towards builder nodes: `[builder] node_ca_file`, `node_client_cert_file`, `node_client_key_file`. */
function nodeTls(config: ResolvedConfig): NodeTlsOptions | undefined {
  const { nodeCaFile, nodeClientCertFile, nodeClientKeyFile } = config.builder;
  if (nodeCaFile === "" && nodeClientCertFile === "") return undefined;
  return {
    ...(nodeCaFile ? { caPem: readFileSync(nodeCaFile, "utf8") } : {}),
    ...(nodeClientCertFile ? { certPem: readFileSync(nodeClientCertFile, "utf8"), keyPem: new Secret(readFileSync(nodeClientKeyFile, "utf8")) } : {}),
  };
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

/** `HasImage` and the engine part of `GetStatus`, for modes that build on this machine. */
function engineQueries(getEngine: () => Promise<Engine>, command: string) {
  return {
    hasImage: async (reference: string, signal: AbortSignal) => {
      const found = await (await getEngine()).hasImage(reference, signal);
      return { exists: found.exists, digest: found.id };
    },
    engineStatus: async (signal: AbortSignal) => {
      try {
        const info = await (await getEngine()).info(signal);
        return { engine: info.name, version: info.version, healthy: true };
      } catch {
        return { engine: command, version: "", healthy: false };
      }
    },
  };
}

async function manifestDigest(client: RegistryClient, reference: string, signal: AbortSignal): Promise<string | undefined> {
  const ref = parseReference(reference);
  return (await client.headManifest(ref.path, ref.digest ?? ref.tag ?? "latest", signal))?.digest;
}

function registryClientOptions(target: PushTarget): RegistryClientOptions {
  return {
    url: target.url,
    insecure: target.insecure,
    type: target.type,
    username: target.username,
    password: target.password,
    caPem: target.caPem,
    clientCertPem: target.clientCertPem,
    clientKeyPem: target.clientKeyPem,
    awsRegion: target.awsRegion,
  };
}

/** ECR destinations become a short-lived token obtained here, so builder nodes need no cloud identity. */
async function resolveEcrTarget(target: PushTarget, signal: AbortSignal): Promise<PushTarget> {
  if (target.type !== "ecr") return target;
  const host = registryHost(target.url);
  const region = ecrRegion(host, target.awsRegion);
  const creds = await createEcrCredentials(createSdkEcrTokenClient({ region }), host, region).get(signal);
  if (!creds) throw new DomainError("unauthenticated", `no ECR token was issued for ${host}`);
  return { ...target, type: "", username: creds.username, password: creds.password };
}

function lazyEngine(engine: () => Promise<Engine>): CommandEngine {
  return {
    build: async (options, onLine, signal) => (await engine()).build(options, onLine, signal),
    exportImage: async (reference, signal) => (await engine()).exportImage(reference, signal),
  };
}

const pushToRegistry: Parameters<typeof createCommandBuilder>[0]["push"] = async (archive, reference, target, signal) =>
  (await pushImageArchive(createRegistryClient(registryClientOptions(target)), archive, reference, { signal })).digest;
