import type { ConfigSource } from "../config/config-source.js";
import { createHealthRegistry } from "../rpc/health-registry.js";
import { createStderrLogger, type RpcLogger } from "../rpc/logger.js";
import { createRpcServer, type RpcServer } from "../rpc/rpc-server.js";
import { createServiceClients, type ServiceClients } from "../rpc/service-clients.js";
import type { MountedService } from "../rpc/service-mount.js";
import type { ServiceName } from "../rpc/service-names.js";
import { serviceFactories } from "./service-registry.js";
import { NoServiceAvailableError } from "./service-selection.js";
import { readTlsFiles } from "./tls-files.js";

export interface StartServerOptions {
  /** The live configuration (`openConfigSource`, or `staticConfigSource` in tests). */
  readonly config: ConfigSource;
  /** The services to mount; those not available yet are skipped and reported. */
  readonly services: readonly ServiceName[];
  /** Overrides `[http] host` / `port` (the CLI's `--host` / `--port`). */
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly log?: RpcLogger;
}

export interface RunningServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The services mounted, in order. */
  readonly mounted: readonly ServiceName[];
  /** Requested services that do not exist yet, hence not mounted. */
  readonly unavailable: readonly ServiceName[];
  readonly server: RpcServer;
  readonly clients: ServiceClients;
  /** Graceful shutdown (see `RpcServer.close`), then background work and clients stop. */
  close(graceMs: number): Promise<void>;
}

/**
 * The composition root: builds the requested services with their
 * dependencies (clients of the others, in-process when mounted here), mounts
 * them on one RPC server configured from `[http]`, `[https]` and
 * `[system] builder_auth_token`, and starts listening.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const log = options.log ?? createStderrLogger();
  const config = options.config.current();
  const tls = readTlsFiles(config.https);
  const health = createHealthRegistry();
  const background = new AbortController();
  const mountedServices: MountedService[] = [];
  const clients = createServiceClients({
    local: () => mountedServices,
    urls: {
      config: config.services.configUrl,
      metadata: config.services.metadataUrl,
      source: config.services.sourceUrl,
      resolver: config.services.resolverUrl,
      builder: config.services.builderUrl,
    },
    token: config.system.builderAuthToken,
    log,
  });
  const ctx = { config: options.config, clients, health, log, signal: background.signal };
  const mounted: ServiceName[] = [];
  const unavailable: ServiceName[] = [];
  for (const name of options.services) {
    const service = serviceFactories[name](ctx);
    if (service) {
      mountedServices.push(service);
      mounted.push(name);
    } else {
      unavailable.push(name);
    }
  }
  if (mounted.length === 0) throw new NoServiceAvailableError(options.services);
  const server = createRpcServer({
    host: options.host ?? config.http.host,
    port: options.port ?? config.http.port,
    tls,
    services: mountedServices,
    authToken: config.system.builderAuthToken,
    health,
    log,
  });
  let address: { host: string; port: number };
  try {
    address = await server.listen();
  } catch (err) {
    background.abort();
    clients.close();
    throw err;
  }
  const urlHost = address.host.includes(":") ? `[${address.host}]` : address.host;
  return {
    url: `${tls ? "https" : "http"}://${urlHost}:${address.port}`,
    host: address.host,
    port: address.port,
    mounted,
    unavailable,
    server,
    clients,
    async close(graceMs) {
      await server.close(graceMs);
      background.abort();
      clients.close();
    },
  };
}
