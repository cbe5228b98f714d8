import { readFileSync } from "node:fs";
import type { EffectiveBuilderMode, ResolvedConfig } from "../../libs/config/config-types.js";
import { engineEnvironment } from "../../libs/config/engine-env.js";
import { isPlaintextNodeUrl } from "../../libs/config/plaintext-nodes.js";
import { createEngine, type Engine } from "../../libs/engine/engine.js";
import { DomainError } from "../../libs/errors/domain-error.js";
import { BuilderService } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { parseReference } from "../../libs/image/reference.js";
import type { CredentialSource } from "../../libs/registry/credentials.js";
import { createEcrCredentials, ecrRegion } from "../../libs/registry/ecr-credentials.js";
import { createSdkEcrTokenClient } from "../../libs/registry/ecr-sdk-client.js";
import { pushImageArchive } from "../../libs/registry/push-image-archive.js";
import type { RegistryClient } from "../../libs/registry/registry-client.js";
import { createRegistryClientPool, type RegistryClientPool } from "../../libs/registry/registry-client-pool.js";
import { loadRegistryOptions, registryHost } from "../../libs/registry/registry-options.js";
import { mountService, type MountedService } from "../../libs/rpc/service-mount.js";
import { Secret } from "../../libs/secret/secret.js";
import { createBuildSlots } from "../../services/builder/build-slots.js";
import { createCommandBuilder, type CommandEngine, type PushArchive } from "../../services/builder/command/command-builder.js";
import { createDelegateBuilder, type DelegateBuilder } from "../../services/builder/delegate/delegate-builder.js";
import type { NodeTlsOptions } from "../../services/builder/delegate/grpc-node.js";
import { assertBuilderNodeSettings, createBuilderNodeGuard } from "../../services/builder/delegate/node-guard.js";
import type { ImageBuilder, PushTarget } from "../../services/builder/image-builder.js";
import { createOpenRunDelegateHandler } from "../../services/builder/openrun/delegate-handler.js";
import { withOpenRunRoutes } from "../../services/builder/openrun/openrun-routes.js";
import { createBuilderService } from "../../services/builder/service.js";
import type { ServiceContext } from "../service-registry.js";
type ModeKind = EffectiveBuilderMode["kind"];

/**
 * How each builder mode is built: exhaustive, so a new mode breaks the
 * compile until handled. `registries` is the builder's one client per
 * registry destination, for its pushes and digest checks.
 */
const modeFactories: Record<
  ModeKind,
  (config: ResolvedConfig, engine: () => Promise<Engine>, ctx: ServiceContext, registries: RegistryClientPool) => ImageBuilder
> = {
  command: (_config, engine, _ctx, registries) => createCommandBuilder({ engine: lazyEngine(engine), push: pushToRegistry(registries) }),
  // The Kubernetes client loads only when this mode is chosen.
  kaniko: (config, _engine, ctx, registries) =>
    lazyImageBuilder("kaniko", import("./kaniko.js").then((m) => m.createKanikoMode(config, ctx, checkPushed(config, registries)))),
  delegate: (config, _engine, ctx, registries) => {
    const mode = config.builder.effectiveMode;
    const token = config.system.builderAuthToken;
    if (mode.kind !== "delegate" || token === undefined) {
      throw new DomainError("failedPrecondition", "builder.mode delegate needs [system] builder_auth_token (or BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN)");
    }
    warnPlaintextNodes(mode.urls, ctx);
    return createDelegateBuilder({
      urls: mode.urls,
      token,
      maxUploadBytes: config.builder.maxUploadBytes,
      tls: nodeTls(config),
      checkDigest: async (reference, target, signal) => registries.use(target, (client) => manifestDigest(client, reference, signal)),
      resolvePushTarget: createEcrTargetResolver(),
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
  // Kept for the builder's life, so tokens and sockets outlive one push; closed after the builder (clean-ups run in reverse).
  const registries = createRegistryClientPool();
  ctx.defer(async () => registries.close());
  const builder = modeFactories[mode](config, getEngine, ctx, registries);
  ctx.defer(() => builder.close());
  const slots = createBuildSlots({ capacity: config.system.maxConcurrentBuilds, maxWaitSecs: config.system.maxBuildWaitSecs });
  const service = createBuilderService({
    builder,
    slots,
    defaultTimeoutSecs: config.builder.buildTimeoutSecs,
    ...(mode === "command" ? engineQueries(getEngine, config.system.containerCommand) : {}),
    ...(isDelegate(builder) ? { nodes: () => builder.nodes() } : {}),
  });
  const openRun = createOpenRunDelegateHandler({
    token: config.system.builderAuthToken,
    adminOverTcp: config.security.adminOverTcp,
    builder,
    slots,
    timeoutSecs: config.builder.buildTimeoutSecs,
    maxUploadBytes: config.builder.maxUploadBytes,
    allowedRegistries: config.builder.allowedRegistries,
  });
  return {
    ...mountService(BuilderService, service),
    networkInterceptors: [
      createBuilderNodeGuard({
        adminOverTcp: config.security.adminOverTcp,
        maxUploadBytes: config.builder.maxUploadBytes,
        ownEcrHost: config.registry.type === "ecr" && config.registry.url !== "" ? registryHost(config.registry.url) : undefined,
        allowedRegistries: config.builder.allowedRegistries,
      }),
    ],
    httpRoute: (next) => withOpenRunRoutes(openRun, next),
  };
}

/**
 * Names, at start, each builder node reached over plain HTTP across the
 * network: the token, registry credentials and build args go in clear
 * (fine inside a mesh whose sidecars encrypt, never silent).
 * `[builder] require_tls_to_nodes = true` refuses such a config at load.
 */
function warnPlaintextNodes(urls: readonly string[], ctx: ServiceContext): void {
  for (const url of urls.filter(isPlaintextNodeUrl)) {
    ctx.log.info(
      `warning: builder node ${url} is reached over plain HTTP: the builder token, registry credentials and build args cross the network in clear; use https:// or set [builder] require_tls_to_nodes = true to refuse this`,
      { node: url, plaintext: true },
    );
  }
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

/** The registry check after a build reported its push: the digest there, or dataLoss. */
function checkPushed(config: ResolvedConfig, registries: RegistryClientPool): (reference: string, signal: AbortSignal) => Promise<string> {
  return async (reference, signal) => {
    const options = await loadRegistryOptions(config.registry);
    const digest = await registries.use(options, (client) => manifestDigest(client, reference, signal));
    if (digest === undefined) throw new DomainError("dataLoss", `the build reported a push of ${reference}, but the registry does not have it`);
    return digest;
  };
}

/** A mode whose implementation is still loading: builds wait for it. */
function lazyImageBuilder(mode: ImageBuilder["mode"], loading: Promise<ImageBuilder>): ImageBuilder {
  loading.catch(() => undefined);
  return {
    mode,
    build: async (job, onProgress, signal) => (await loading).build(job, onProgress, signal),
    close: async () => (await loading.catch(() => undefined))?.close(),
  };
}

function isDelegate(builder: ImageBuilder): builder is DelegateBuilder {
  return builder.mode === "delegate" && typeof (builder as Partial<DelegateBuilder>).nodes === "function";
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

/**
 * ECR destinations become a short-lived token obtained here, so builder
 * nodes need no cloud identity. One credential source per registry and
 * region keeps each token until it expires instead of asking AWS per build.
 */
function createEcrTargetResolver(): (target: PushTarget, signal: AbortSignal) => Promise<PushTarget> {
  const sources = new Map<string, CredentialSource>();
  return async (target, signal) => {
    if (target.type !== "ecr") return target;
    const host = registryHost(target.url);
    const region = ecrRegion(host, target.awsRegion);
    const key = `${host}\0${region}`;
    let source = sources.get(key);
    if (!source) {
      source = createEcrCredentials(createSdkEcrTokenClient({ region }), host, region);
      sources.set(key, source);
    }
    const creds = await source.get(signal);
    if (!creds) throw new DomainError("unauthenticated", `no ECR token was issued for ${host}`);
    return { ...target, type: "", username: creds.username, password: creds.password };
  };
}

function lazyEngine(engine: () => Promise<Engine>): CommandEngine {
  return {
    build: async (options, onLine, signal) => (await engine()).build(options, onLine, signal),
    exportImage: async (reference, signal) => (await engine()).exportImage(reference, signal),
  };
}

/** The command mode's push, through the builder's client for the target. */
function pushToRegistry(registries: RegistryClientPool): PushArchive {
  return async (archive, reference, target, signal) =>
    registries.use(target, async (client) => (await pushImageArchive(client, archive, reference, { signal })).digest);
}
