import type { ConfigSource } from "../libs/config/config-source.js";
import { createStderrLogger, type RpcLogger } from "../libs/rpc/logger.js";
import { createRpcServer, type RpcServer } from "../libs/rpc/rpc-server.js";
import { ServerShuttingDownError } from "../libs/rpc/server-shutdown.js";
import type { ServiceClients } from "../libs/rpc/service-clients.js";
import type { ServiceName } from "../libs/rpc/service-names.js";
import { withMetricsRoute } from "../libs/metrics/metrics-route.js";
import { composeServices } from "./compose-services.js";
import { createObservability } from "./observability.js";
import { checkExposure, serverCredentials } from "./server-credentials.js";
import { NoServiceAvailableError } from "./service-selection.js";
import { readTlsFiles } from "./tls-files.js";
import { sweepLeftovers } from "./sweep-leftovers.js";
import { loadSiteAssets } from "../libs/web-site/site-assets.js";
import { createWebSite } from "../libs/web-site/web-site.js";

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
  readonly server: RpcServer;
  readonly clients: ServiceClients;
  /**
   * Graceful shutdown sized to builds: NOT_SERVING and new builds refused at
   * once; running builds get `graceMs` to finish, then are canceled with
   * `ServerShuttingDownError` (recorded canceled, "server shutting down")
   * and their callers told so; other calls get what is left of the grace,
   * at most `otherCallsGraceMs`; then background work and clients stop.
   */
  close(graceMs: number): Promise<void>;
  /** Build calls in flight on the port. */
  readonly buildsRunning: number;
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
  const composed = composeServices({ config: options.config, services: options.services, log, observability, serving: true });
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
    dataDir: config.system.dataDir,
    maxMessageBytes: config.http.maxMessageBytes,
    limits: { headersMs: config.http.headersTimeoutSecs * 1000, idleMs: config.http.idleTimeoutSecs * 1000 },
    health: composed.health,
    interceptors: observability.serverInterceptors,
    // The web page reads builds and logs: served where the metadata service is.
    httpRoutes: [withMetricsRoute(observability.metrics), ...(composed.mounted.includes("metadata") ? [createWebSite(loadSiteAssets())] : [])],
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
    server,
    clients: composed.clients,
    get buildsRunning() {
      return server.buildsRunning;
    },
    async close(graceMs) {
      const deadline = Date.now() + graceMs;
      server.beginShutdown();
      if (!(await settlesWithin(server.buildsIdle(), graceMs))) {
        log.info("shutdown grace ended: canceling the builds still running", { builds: server.buildsRunning });
        composed.cancelBuilds(new ServerShuttingDownError());
        // Their callers get the canceled outcome before the connections go.
        await settlesWithin(server.buildsIdle(), cancelFlushMs);
      }
      await server.close(Math.min(otherCallsGraceMs, Math.max(0, deadline - Date.now())));
      await composed.close();
    },
  };
}

/** Longest wait, once the grace ended and builds were canceled, for their callers to get the outcome. */
const cancelFlushMs = 10_000;

/** Calls other than builds (log followers, health watches) get at most this long once builds ended. */
const otherCallsGraceMs = 10_000;

/** Resolves true when `promise` settles within `ms`, else false. */
async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
