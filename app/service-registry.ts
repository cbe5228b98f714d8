import type { ConfigSource } from "../libs/config/config-source.js";
import type { CollectedImages } from "../libs/image/collected-images.js";
import type { BuildplaneMetrics } from "../libs/metrics/buildplane-metrics.js";
import type { HealthRegistry } from "../libs/rpc/health-registry.js";
import type { RpcLogger } from "../libs/rpc/logger.js";
import type { ServiceClients } from "../libs/rpc/service-clients.js";
import type { MountedService } from "../libs/rpc/service-mount.js";
import type { ServiceName } from "../libs/rpc/service-names.js";
import { builderFactory } from "./factories/builder.js";
import { configFactory } from "./factories/config.js";
import { lifecycleFactory } from "./factories/lifecycle.js";
import { metadataFactory } from "./factories/metadata.js";
import { resolverFactory } from "./factories/resolver.js";
import { sourceFactory } from "./factories/source.js";

/** What every service factory gets from the composition root. */
export interface ServiceContext {
  /** The live configuration. */
  readonly config: ConfigSource;
  /** Clients for the other services: in-process when mounted here, else remote. */
  readonly clients: ServiceClients;
  /** Where a service reports NOT_SERVING while a dependency is down. */
  readonly health: HealthRegistry;
  readonly log: RpcLogger;
  /** This process's metrics (served at `GET /metrics`). */
  readonly metrics: BuildplaneMetrics;
  /** Aborts when the server shuts down; stop background work with it. */
  readonly signal: AbortSignal;
  /** True in `buildplane serve`: background loops (app polling, scheduled collection) run only there, never in a CLI command. */
  readonly serving: boolean;
  /**
   * True in the embedded `buildplane build`, which answers one request and
   * exits: the metadata database opens on the service's first call (an
   * image that exists is answered without it), and the resolver neither
   * watches collected images nor trusts a cached existence answer.
   */
  readonly oneShot: boolean;
  /** Images garbage collection deleted, told to this process's resolver. */
  readonly collectedImages: CollectedImages;
  /** Registers a clean-up run at shutdown, in reverse order. */
  defer(cleanup: () => Promise<void>): void;
}

/** Builds one service for mounting. */
export type ServiceFactory = (ctx: ServiceContext) => MountedService;

/**
 * How each service is built. Exhaustive over `ServiceName`, so a new service
 * has exactly one factory here.
 */
export const serviceFactories: Readonly<Record<ServiceName, ServiceFactory>> = {
  config: configFactory,
  metadata: metadataFactory,
  source: sourceFactory,
  resolver: resolverFactory,
  builder: builderFactory,
  lifecycle: lifecycleFactory,
};
