import type { AddressInfo, Server } from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { setMaxListeners } from "node:events";
import { createBuildDrain } from "./build-drain.js";
import { callerContextValues } from "./caller-identity.js";
import { createConnectionTracker } from "./connection-tracker.js";
import type { Credentials } from "./credentials.js";
import { createDescriptorIndex } from "./descriptor-index.js";
import { createEdgeGuard } from "./edge-guard.js";
import { createErrorInterceptor } from "./errors.js";
import { createHealthRegistry, type HealthRegistry } from "./health-registry.js";
import { createHealthService } from "./health-service.js";
import { createPlainListener, createTlsListener, defaultListenerLimits, type DualHandler, type ListenerLimits, type TlsOptions } from "./listeners.js";
import { createStderrLogger, type RpcLogger } from "./logger.js";
import { createNodeAdapter } from "./node-adapter.js";
import { ListenError, PortInUseError } from "./port-in-use-error.js";
import { registerReflection } from "./reflection-service.js";
import { ServerShuttingDownError } from "./server-shutdown.js";
import { createServerHealth } from "./server-health.js";
import type { MountedService } from "./service-mount.js";

export interface RpcServerOptions {
  readonly host: string;
  /** `[system] data_dir`, named in the error a full disk causes. */
  readonly dataDir?: string;
  /** 0 picks a free port; `listen()` returns the one chosen. */
  readonly port: number;
  /** Serve TLS (HTTP/2 and HTTP/1.1 by ALPN) instead of plain h2c + HTTP/1.1. */
  readonly tls?: TlsOptions | undefined;
  readonly services: readonly MountedService[];
  /**
   * Who may call what (see `rpc-scopes.ts`), checked from the headers before
   * any body is read; absent or with nothing configured, every call is open.
   */
  readonly credentials?: Credentials | undefined;
  /** Largest message accepted after decompression; larger ones answer `resource_exhausted`. Default 8 MiB. */
  readonly maxMessageBytes?: number | undefined;
  /** Header and idle timeouts of the listener. */
  readonly limits?: ListenerLimits | undefined;
  /** Plain HTTP handlers after the edge guard, in front of the services' routes and the RPC adapter (`GET /metrics`, the web page). */
  readonly httpRoutes?: readonly ((next: DualHandler) => DualHandler)[];
  /** Extra server interceptors, run inside error mapping. */
  readonly interceptors?: readonly Interceptor[];
  /** Shared with the services so they can report NOT_SERVING ("" follows them); created when absent. */
  readonly health?: HealthRegistry;
  readonly log?: RpcLogger;
}

export interface RpcServer {
  /** Starts listening; rejects with `PortInUseError` when the port is taken. */
  listen(): Promise<{ host: string; port: number }>;
  /**
   * The first step of a shutdown: health turns NOT_SERVING at once (so a
   * mesh drains traffic first) and new build calls are refused with
   * `unavailable`; the port keeps answering every other call.
   */
  beginShutdown(): void;
  /** Resolves when no build call (see `MountedService.buildPaths`) is in flight. */
  buildsIdle(): Promise<void>;
  /** Build calls in flight. */
  readonly buildsRunning: number;
  /**
   * Graceful shutdown: stops accepting, lets in-flight calls finish for up to
   * `graceMs`, then aborts the handlers still running (their `ctx.signal`,
   * with `ServerShuttingDownError`) and destroys the remaining connections.
   */
  close(graceMs: number): Promise<void>;
  /** Where the server listens, once `listen()` resolved. */
  readonly address: { host: string; port: number } | undefined;
  readonly health: HealthRegistry;
}

/**
 * One port serving gRPC, gRPC-Web and Connect for the given services, plus
 * `grpc.health.v1.Health` and server reflection (v1 and v1alpha).
 */
export function createRpcServer(options: RpcServerOptions): RpcServer {
  const log = options.log ?? createStderrLogger();
  const health = options.health ?? createHealthRegistry();
  const shutdown = new AbortController();
  // Each call in flight holds one listener on this signal (connect-node links
  // it to the call's own signal and removes it when the call ends): the count
  // follows the calls in flight, so no fixed limit applies.
  setMaxListeners(0, shutdown.signal);
  const tracker = createConnectionTracker();
  const interceptors = [
    createErrorInterceptor(log, { dataDir: options.dataDir }),
    ...(options.interceptors ?? []),
    ...options.services.flatMap((s) => s.networkInterceptors ?? []),
  ];
  const index = createDescriptorIndex([...options.services.map((s) => s.service), Health, ReflectionV1, ReflectionV1alpha]);
  const routes = (router: ConnectRouter): void => {
    for (const mounted of options.services) mounted.register(router);
    router.service(Health, createHealthService(health));
    registerReflection(router, index);
  };
  // readMaxBytes bounds every message, and (as zlib's maxOutputLength) what a compressed one may inflate to.
  const readMaxBytes = options.maxMessageBytes ?? defaultMaxMessageBytes;
  const requestBodyFilters = new Map(options.services.flatMap((s) => Object.entries(s.requestBodyFilters ?? {})));
  const adapter = createNodeAdapter({ routes, interceptors, shutdownSignal: shutdown.signal, readMaxBytes, contextValues: callerContextValues, requestBodyFilters, log });
  const serviceRoutes = options.services.reduce<DualHandler>((next, s) => (s.httpRoute ? s.httpRoute(next) : next), (req, res) => adapter(req, res));
  const routed = (options.httpRoutes ?? []).reduce<DualHandler>((next, route) => route(next), serviceRoutes);
  const drain = createBuildDrain(new Set(options.services.flatMap((s) => s.buildPaths ?? [])));
  const drained = drain.wrap(routed);
  const guarded = options.credentials ? createEdgeGuard(options.credentials)(drained) : drained;
  const handler: DualHandler = (req, res) => {
    tracker.trackRequest(req, res);
    guarded(req, res);
  };
  const limits = options.limits ?? defaultListenerLimits;
  const server: Server = options.tls ? createTlsListener(handler, tracker, options.tls, limits) : createPlainListener(handler, tracker, limits);
  let address: { host: string; port: number } | undefined;
  let closing: Promise<void> | undefined;

  const serverHealth = createServerHealth(health, options.services.map((s) => s.service.typeName));

  return {
    get address() {
      return address;
    },
    health,
    get buildsRunning() {
      return drain.running;
    },
    beginShutdown() {
      serverHealth.stop();
      drain.close();
    },
    buildsIdle: () => drain.idle(),
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException): void => reject(listenError(err, options.host, options.port));
        server.once("error", onError);
        server.listen(options.port, options.host, () => {
          server.off("error", onError);
          server.on("error", (err) => log.error("rpc server error", { error: err.message }));
          address = { host: options.host, port: (server.address() as AddressInfo).port };
          serverHealth.start();
          resolve(address);
        });
      });
    },
    close(graceMs) {
      closing ??= (async () => {
        serverHealth.stop();
        drain.close();
        const closed = address ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
        tracker.drain();
        await raceTimeout(tracker.idle(), graceMs);
        shutdown.abort(new ServerShuttingDownError());
        // Let the last responses flush and the connections close on their own.
        await raceTimeout(tracker.closed(), flushMs);
        tracker.destroyAll();
        await closed;
      })();
      return closing;
    },
  };
}

/** `[http] max_message_bytes`' default: far above the 64 KiB context chunks a Build stream carries. */
export const defaultMaxMessageBytes = 8 * 1024 * 1024;

/** How long connections may take to flush and close after the handlers ended. */
const flushMs = 2000;

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === "EADDRINUSE") return new PortInUseError(host, port, { cause: err });
  if (err.code === "EACCES") return new ListenError(host, port, "permission denied", { cause: err });
  if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") {
    return new ListenError(host, port, "the host is not an address of this machine", { cause: err });
  }
  return new ListenError(host, port, err.code ?? err.message, { cause: err });
}

async function raceTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
