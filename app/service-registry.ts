import type { ConfigSource } from "../config/config-source.js";
import { ConfigService } from "../gen/buildplane/v1/config_pb.js";
import type { HealthRegistry } from "../rpc/health-registry.js";
import type { RpcLogger } from "../rpc/logger.js";
import type { ServiceClients } from "../rpc/service-clients.js";
import { mountService, type MountedService } from "../rpc/service-mount.js";
import type { ServiceName } from "../rpc/service-names.js";
import { createConfigService } from "../../services/config/service.js";

/** What every service factory gets from the composition root. */
export interface ServiceContext {
  /** The live configuration. */
  readonly config: ConfigSource;
  /** Clients for the other services: in-process when mounted here, else remote. */
  readonly clients: ServiceClients;
  /** Where a service reports NOT_SERVING while a dependency is down. */
  readonly health: HealthRegistry;
  readonly log: RpcLogger;
  /** Aborts when the server shuts down; stop background work with it. */
  readonly signal: AbortSignal;
}

/** Builds one service for mounting; undefined while the service does not exist yet. */
export type ServiceFactory = (ctx: ServiceContext) => MountedService | undefined;

const notAvailableYet: ServiceFactory = () => undefined;

/**
 * How each service is built. Exhaustive over `ServiceName`, so a new service
 * lands by replacing its `notAvailableYet` entry with a factory.
 */
export const serviceFactories: Readonly<Record<ServiceName, ServiceFactory>> = {
  config: (ctx) =>
    mountService(ConfigService, createConfigService({ current: () => ctx.config.current(), subscribe: (l) => ctx.config.subscribe(l) })),
  metadata: notAvailableYet,
  source: notAvailableYet,
  resolver: notAvailableYet,
  builder: notAvailableYet,
};
