import type { ConfigSource } from "../libs/config/config-source.js";
import { createHealthRegistry, type HealthRegistry } from "../libs/rpc/health-registry.js";
import type { RpcLogger } from "../libs/rpc/logger.js";
import { createServiceClients, type ServiceClients } from "../libs/rpc/service-clients.js";
import type { MountedService } from "../libs/rpc/service-mount.js";
import { createCollectedImages } from "../libs/image/collected-images.js";
import type { ServiceName } from "../libs/rpc/service-names.js";
import { createObservability, type Observability } from "./observability.js";
import { serviceFactories } from "./service-registry.js";

/** The services built for one process, with clients wired between them. */
export interface ComposedServices {
  readonly services: readonly MountedService[];
  readonly mounted: readonly ServiceName[];
  readonly clients: ServiceClients;
  readonly health: HealthRegistry;
  /** Stops every build still running here with `reason` (the shutdown grace ended). */
  cancelBuilds(reason: Error): void;
  /** Metrics and the interceptors of this process (for the RPC server's port). */
  readonly observability: Observability;
  /** Stops background work, releases databases, engines and clients. */
  close(): Promise<void>;
}

/**
 * Builds the requested services, each with clients of the others: in-process
 * for those built here (no socket, same serialization and error mapping),
 * remote through `[services] <name>_url` otherwise. Shared by `serve` and by
 * the embedded `buildplane build`.
 */
export function composeServices(options: {
  readonly config: ConfigSource;
  readonly services: readonly ServiceName[];
  readonly log: RpcLogger;
  readonly health?: HealthRegistry;
  /** Metrics and interceptors; made here (metrics on, spans off) when absent. */
  readonly observability?: Observability;
  /** True for `buildplane serve`: background loops start (see `ServiceContext.serving`). */
  readonly serving?: boolean;
  /** True for the embedded `buildplane build` (see `ServiceContext.oneShot`). */
  readonly oneShot?: boolean;
}): ComposedServices {
  const config = options.config.current();
  const health = options.health ?? createHealthRegistry();
  const observability = options.observability ?? createObservability({ log: options.log, tracing: false });
  const background = new AbortController();
  const cleanups: Array<() => Promise<void>> = [];
  const services: MountedService[] = [];
  const clients = createServiceClients({
    local: () => services,
    urls: {
      config: config.services.configUrl,
      metadata: config.services.metadataUrl,
      source: config.services.sourceUrl,
      resolver: config.services.resolverUrl,
      builder: config.services.builderUrl,
      lifecycle: config.services.lifecycleUrl,
    },
    // The internal credential; a main install with only the node token still reaches builder services.
    token: config.services.token ?? config.system.builderAuthToken,
    log: options.log,
    dataDir: config.system.dataDir,
    clientInterceptors: observability.clientInterceptors,
    inProcessInterceptors: observability.inProcessInterceptors,
  });
  const ctx = {
    config: options.config,
    clients,
    health,
    log: options.log,
    metrics: observability.metrics,
    signal: background.signal,
    serving: options.serving === true,
    oneShot: options.oneShot === true,
    collectedImages: createCollectedImages(),
    defer: (cleanup: () => Promise<void>) => void cleanups.push(cleanup),
  };
  const mounted: ServiceName[] = [];
  const close = async (): Promise<void> => {
    background.abort();
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => options.log.error("clean-up failed", { error: String(err) }));
    clients.close();
  };
  try {
    for (const name of options.services) {
      services.push(serviceFactories[name](ctx));
      mounted.push(name);
    }
  } catch (err) {
    void close();
    throw err;
  }
  const cancelBuilds = (reason: Error): void => {
    for (const service of services) service.cancelBuilds?.(reason);
  };
  return { services, mounted, clients, health, observability, cancelBuilds, close };
}
