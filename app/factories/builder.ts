import type { EffectiveBuilderMode } from "../../libs/config/config-types.js";
import { BuilderService } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { createRegistryClientPool } from "../../libs/registry/registry-client-pool.js";
import { registryHost } from "../../libs/registry/registry-options.js";
import { mountService, type MountedService } from "../../libs/rpc/service-mount.js";
import { secretValuesIn } from "../../libs/secret/scrub.js";
import { tracedHttpHandler } from "../../libs/tracing/traced-http-handler.js";
import { createBuildLifecycle } from "../../services/builder/build-lifecycle.js";
import { createBuildSlots } from "../../services/builder/build-slots.js";
import type { BuilderModeModule } from "../../services/builder/builder-mode.js";
import { commandMode } from "../../services/builder/command/command-mode.js";
import { delegateMode } from "../../services/builder/delegate/delegate-mode.js";
import { assertBuilderNodeSettings, createBuilderNodeGuard } from "../../services/builder/node-guard.js";
import { kanikoMode } from "../../services/builder/kaniko/kaniko-mode.js";
import { createOpenRunDelegateHandler } from "../../services/builder/openrun/delegate-handler.js";
import { withOpenRunRoutes } from "../../services/builder/openrun/openrun-routes.js";
import { createBuilderService } from "../../services/builder/service.js";
import { contextReceiveMount, contextReceivePath } from "../../services/builder/wire/grpc-context-receive.js";
import type { ServiceContext } from "../service-registry.js";

/**
 * Every builder mode by `[builder] mode`: exhaustive, so a new mode breaks
 * the compile until it has a module.
 */
export const builderModes: Readonly<Record<EffectiveBuilderMode["kind"], BuilderModeModule>> = {
  command: commandMode,
  kaniko: kanikoMode,
  delegate: delegateMode,
};

/**
 * The builder service in the effective mode (`auto` already decided by the
 * config library), with the process-wide build slots and the one build
 * lifecycle. Calls arriving over the network pass the builder-node guard
 * (`[security] admin_over_tcp`, upload limit), and OpenRun's
 * `POST /_openrun/delegate_build` is served on the same port through the
 * same lifecycle.
 */
export function builderFactory(ctx: ServiceContext): MountedService {
  const config = ctx.config.current();
  assertBuilderNodeSettings({ adminOverTcp: config.security.adminOverTcp, builderAuthToken: config.system.builderAuthToken });
  // Kept for the builder's life, so tokens and sockets outlive one push; closed after the builder (clean-ups run in reverse).
  const onExchange = (op: string, code: string): void => ctx.metrics.registryRequests.inc({ op, code });
  const registries = createRegistryClientPool({ create: (options) => createRegistryClient(options, { onExchange }) });
  ctx.defer(async () => registries.close());
  const mode = builderModes[config.builder.effectiveMode.kind];
  const builder = mode.create({
    config,
    currentConfig: () => ctx.config.current(),
    registries,
    metadata: ctx.clients.metadata,
    metadataReady: () => metadataServing(ctx),
    log: ctx.log,
    metrics: ctx.metrics,
    signal: ctx.signal,
    defer: (cleanup) => ctx.defer(cleanup),
  });
  ctx.defer(() => builder.close());
  const slots = createBuildSlots({ capacity: config.system.maxConcurrentBuilds, maxWaitSecs: config.system.maxBuildWaitSecs, maxQueue: config.builder.maxQueue });
  const lifecycle = createBuildLifecycle({ builder, capabilities: mode.capabilities, slots, knownSecrets: secretValuesIn(config), metrics: ctx.metrics, log: ctx.log });
  ctx.metrics.watchSlots(slots);
  // The pool's nodes as last probed (no probe per scrape); none outside the delegate mode.
  ctx.metrics.watchNodes(async () => builder.nodes());
  const service = createBuilderService({ builder, lifecycle, slots, capabilities: mode.capabilities, defaultTimeoutSecs: config.builder.buildTimeoutSecs });
  const openRun = createOpenRunDelegateHandler({
    token: config.system.builderAuthToken,
    adminOverTcp: config.security.adminOverTcp,
    lifecycle,
    timeoutSecs: config.builder.buildTimeoutSecs,
    maxUploadBytes: config.builder.maxUploadBytes,
    allowedRegistries: config.builder.allowedRegistries,
  });
  const receive = contextReceiveMount();
  return {
    ...mountService(BuilderService, service),
    buildPaths: [contextReceivePath, "/_openrun/delegate_build"],
    cancelBuilds: (reason) => lifecycle.cancelAll(reason),
    // The context's bytes of a gRPC Build call go past connect's decoder (see grpc-context-receive.ts);
    // they are back in the stream before the node guard counts them.
    requestBodyFilters: receive.requestBodyFilters,
    networkInterceptors: [
      ...receive.networkInterceptors,
      createBuilderNodeGuard({
        adminOverTcp: config.security.adminOverTcp,
        maxUploadBytes: config.builder.maxUploadBytes,
        ownEcrHost: config.registry.type === "ecr" && config.registry.url !== "" ? registryHost(config.registry.url) : undefined,
        allowedRegistries: config.builder.allowedRegistries,
      }),
    ],
    httpRoute: (next) => withOpenRunRoutes(tracedHttpHandler("POST /_openrun/delegate_build", openRun), next),
  };
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
