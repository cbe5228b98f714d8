import type { ResolvedConfig } from "../../libs/config/config-types.js";
import { engineEnvironment } from "../../libs/config/engine-env.js";
import { createEngine, type Engine } from "../../libs/engine/engine.js";
import { DomainError } from "../../libs/errors/domain-error.js";
import { BuilderService } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { parseReference } from "../../libs/image/reference.js";
import { pushImageArchive } from "../../libs/registry/push-image-archive.js";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { loadRegistryOptions } from "../../libs/registry/registry-options.js";
import { mountService, type MountedService } from "../../libs/rpc/service-mount.js";
import { createBuildSlots } from "../../services/builder/build-slots.js";
import { createCommandBuilder, type CommandEngine } from "../../services/builder/command/command-builder.js";
import type { ImageBuilder } from "../../services/builder/image-builder.js";
import { createKanikoBuilder } from "../../services/builder/kaniko/kaniko-builder.js";
import { resolveKanikoOptions } from "../../services/builder/kaniko/kaniko-options.js";
import { loadKubeConfig } from "../../services/builder/kaniko/kube-api.js";
import { createBuilderService } from "../../services/builder/service.js";
import type { ServiceContext } from "../service-registry.js";

type ModeKind = "command" | "kaniko" | "delegate";

/** How each builder mode is built: exhaustive, so a new mode breaks the compile until handled. */
const modeFactories: Record<ModeKind, (ctx: ServiceContext, engine: () => Promise<Engine>) => ImageBuilder> = {
  command: (_ctx, engine) => createCommandBuilder({ engine: lazyEngine(engine), push: pushToRegistry }),
  kaniko: (ctx) => {
    const config = ctx.config.current();
    return createKanikoBuilder({
      kubeConfig: loadKubeConfig(config.kubernetes.kubeconfig),
      options: resolveKanikoOptions({
        namespace: config.kubernetes.namespace,
        kanikoImage: config.builder.kanikoImage,
        cache: config.builder.kanikoCache,
        cacheRepo: config.builder.kanikoCacheRepo,
        buildTimeoutSecs: config.builder.buildTimeoutSecs,
      }),
      checkDigest: async (reference, signal) => {
        const client = createRegistryClient(await loadRegistryOptions(config.registry));
        const ref = parseReference(reference);
        const head = await client.headManifest(ref.path, ref.digest ?? ref.tag ?? "latest", signal);
        if (!head) throw new DomainError("dataLoss", `the build reported a push of ${reference}, but the registry does not have it`);
        return head.digest;
      },
    });
  },
  delegate: () => {
    throw new DomainError("unimplemented", "builder.mode delegate is not available in this version");
  },
};

/** The mode this process builds with: `auto` is kaniko inside Kubernetes, else command. */
export function effectiveMode(config: ResolvedConfig): ModeKind {
  const mode = config.builder.mode;
  return mode.kind === "auto" ? "command" : mode.kind;
}

/**
 * The builder service in the configured mode, with the process-wide build
 * slots (`[system] max_concurrent_builds`, `max_build_wait_secs`).
 */
export function builderFactory(ctx: ServiceContext): MountedService {
  const config = ctx.config.current();
  let engine: Promise<Engine> | undefined;
  const getEngine = (): Promise<Engine> => {
    engine ??= createEngine({ command: config.system.containerCommand, env: engineEnvironment() });
    engine.catch(() => (engine = undefined));
    return engine;
  };
  const mode = effectiveMode(config);
  const builder = modeFactories[mode](ctx, getEngine);
  ctx.defer(() => builder.close());
  const slots = createBuildSlots({ capacity: config.system.maxConcurrentBuilds, maxWaitSecs: config.system.maxBuildWaitSecs });
  const withEngine = mode === "command";
  return mountService(
    BuilderService,
    createBuilderService({
      builder,
      slots,
      defaultTimeoutSecs: config.builder.buildTimeoutSecs,
      ...(withEngine
        ? {
            hasImage: async (reference: string, signal: AbortSignal) => {
              const found = await (await getEngine()).hasImage(reference, signal);
              return { exists: found.exists, digest: found.id };
            },
            engineStatus: async (signal: AbortSignal) => {
              try {
                const info = await (await getEngine()).info(signal);
                return { engine: info.name, version: info.version, healthy: true };
              } catch {
                return { engine: config.system.containerCommand, version: "", healthy: false };
              }
            },
          }
        : {}),
    }),
  );
}

function lazyEngine(engine: () => Promise<Engine>): CommandEngine {
  return {
    build: async (options, onLine, signal) => (await engine()).build(options, onLine, signal),
    exportImage: async (reference, signal) => (await engine()).exportImage(reference, signal),
  };
}

const pushToRegistry: Parameters<typeof createCommandBuilder>[0]["push"] = async (archive, reference, target, signal) => {
  const client = createRegistryClient({
    url: target.url,
    insecure: target.insecure,
    type: target.type,
    username: target.username,
    password: target.password,
    caPem: target.caPem,
    clientCertPem: target.clientCertPem,
    clientKeyPem: target.clientKeyPem,
    awsRegion: target.awsRegion,
  });
  return (await pushImageArchive(client, archive, reference, { signal })).digest;
};
