import type { ConfigSource } from "../libs/config/config-source.js";
import { createStderrLogger, type RpcLogger } from "../libs/rpc/logger.js";
import { createRpcServer, type RpcServer } from "../libs/rpc/rpc-server.js";
import type { ServiceClients } from "../libs/rpc/service-clients.js";
import type { ServiceName } from "../libs/rpc/service-names.js";
import { withMetricsRoute } from "../libs/metrics/metrics-route.js";
import { composeServices } from "./compose-services.js";
import { createObservability } from "./observability.js";
import { checkExposure, serverCredentials } from "./server-credentials.js";
import { NoServiceAvailableError } from "./service-selection.js";
import { readTlsFiles } from "./tls-files.js";
import { sweepLeftovers } from "./sweep-leftovers.js";

export interface StartServerOptions {
  /** The live configuration (`openConfigSource`, or `staticConfigSource` in tests). */
  readonly config: ConfigSource;
  /** The services to mount; those not available yet are skipped and reported. */
  readonly services: readonly ServiceName[];
  /** Overrides `[http] host` / `port` (the CLI's `--host` / `--port`). */
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly log?: RpcLogger;
  /** Tracing was started for this process (`startTracing`): add span interceptors. */
  readonly tracing?: boolean;
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
 * them on one RPC server configured from `[http]`, `[https]` and the
 * credentials (tokens and client certificates with their scopes), and starts
 * listening. Off loopback without any credential it refuses to start
 * (`OpenDoorError`) unless `[security] allow_unauthenticated` is set.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const log = options.log ?? createStderrLogger();
  const config = options.config.current();
  const host = options.host ?? config.http.host;
  const credentials = serverCredentials(config);
  const exposure = checkExposure(host, credentials, config.security.allowUnauthenticated);
  if (exposure.warning) log.error(exposure.warning, { setting: "security.allow_unauthenticated" });
  const tls = readTlsFiles(config.https);
  await sweepLeftovers(config, log);
  const observability = createObservability({ log, tracing: options.tracing ?? false });
  const composed = composeServices({ config: options.config, services: options.services, log, observability });
  if (composed.mounted.length === 0) {
    await composed.close();
    throw new NoServiceAvailableError(options.services);
  }
  const server = createRpcServer({
    host,
    port: options.port ?? config.http.port,
    tls,
    services: composed.services,
    credentials,
    maxMessageBytes: config.http.maxMessageBytes,
    limits: { headersMs: config.http.headersTimeoutSecs * 1000, idleMs: config.http.idleTimeoutSecs * 1000 },
    health: composed.health,
    interceptors: observability.serverInterceptors,
    routes: [withMetricsRoute(observability.metrics)],
    log,
  });
  let address: { host: string; port: number };
  try {
    address = await server.listen();
  } catch (err) {
    await composed.close();
    throw err;
  }
  const urlHost = address.host.includes(":") ? `[${address.host}]` : address.host;
  return {
    url: `${tls ? "https" : "http"}://${urlHost}:${address.port}`,
    host: address.host,
    port: address.port,
    mounted: composed.mounted,
    unavailable: composed.unavailable,
    server,
    clients: composed.clients,
    async close(graceMs) {
      await server.close(graceMs);
      await composed.close();
    },
  };
}
