import type { Client } from "@connectrpc/connect";
import { staticConfigSource } from "../libs/config/config-source.js";
import type { ResolvedConfig } from "../libs/config/config-types.js";
import { createBuildplaneMetrics } from "../libs/metrics/buildplane-metrics.js";
import type { ResolverService } from "../libs/gen/buildplane/v1/resolver_pb.js";
import type { Secret } from "../libs/secret/secret.js";
import { DomainError } from "../libs/errors/domain-error.js";
import { silentLogger, type RpcLogger } from "../libs/rpc/rpc-logger.js";
import { createServiceClients } from "../libs/rpc/service-clients.js";
import { serviceNames } from "../libs/rpc/service-names.js";
import { composeServices } from "./compose-services.js";
import { createObservability } from "./observability.js";
import { sweepLeftovers } from "./sweep-leftovers.js";

/** A resolver to run EnsureImage against, and how to let go of it. */
export interface ResolverConnection {
  readonly resolver: Client<typeof ResolverService>;
  close(): Promise<void>;
}

/**
 * How long closing the embedded services waits for what the builds of a
 * one-shot process still write once their answer is given: after a
 * metadata outage, an outcome written late and a lease released late each
 * wait for the database. Past it the process stops waiting and exits; a
 * lease left behind expires on its own, and the lease reaper of any
 * buildplane process on the same database then marks its record abandoned.
 */
export const embeddedCloseGraceMs = 5_000;

/** Why the builds of a closing one-shot process stop waiting for the metadata database. */
export class EmbeddedClosingError extends DomainError {
  constructor() {
    super("unavailable", "this process is exiting");
  }
}

export interface EmbeddedOptions {
  /** Told, once, when closing takes longer than `embeddedCloseGraceMs` and the process stops waiting. */
  readonly onSlowClose?: (message: string) => void;
}

/**
 * The embedded default: the five services a build goes through in this
 * process, talking through in-process transports — SQLite under the data
 * dir, the local engine, no server and no socket. What `buildplane build`
 * uses without `--server`. The lifecycle service (apps, hooks, collection)
 * is left out: a build never calls it.
 * Temp folders left by killed processes are swept first. Closing waits at
 * most `embeddedCloseGraceMs` for writes held back by a metadata outage.
 */
export async function openEmbedded(config: ResolvedConfig, log: RpcLogger = silentLogger, tracing = false, options: EmbeddedOptions = {}): Promise<ResolverConnection> {
  await sweepLeftovers(config, log);
  // Nobody scrapes this process: no process metrics and their observers.
  const observability = createObservability({ log, tracing, metrics: createBuildplaneMetrics({ processMetrics: false }) });
  const services = serviceNames.filter((name) => name !== "lifecycle");
  const composed = composeServices({ config: staticConfigSource(config), services, log, observability, oneShot: true });
  const close = async (): Promise<void> => {
    const giveUp = setTimeout(() => {
      options.onSlowClose?.(
        `${embeddedCloseGraceMs / 1000} s after the answer, the build has not finished storing its outcome and releasing its lease (the metadata database may be away): exiting without waiting for them; a lease left behind expires on its own, and the build's record is then marked abandoned`,
      );
      composed.cancelBuilds(new EmbeddedClosingError());
    }, embeddedCloseGraceMs);
    try {
      await composed.close();
    } finally {
      clearTimeout(giveUp);
    }
  };
  return { resolver: composed.clients.resolver, close };
}

/** A resolver on a buildplane server, reached over gRPC with the caller's bearer token (scope `build`); with `tracing`, calls carry `traceparent`. */
export function openRemoteResolver(url: string, token: Secret | undefined, log: RpcLogger = silentLogger, tracing = false): ResolverConnection {
  const { clientInterceptors } = createObservability({ log, tracing });
  const clients = createServiceClients({ local: () => [], urls: { resolver: url }, token, log, clientInterceptors });
  return { resolver: clients.resolver, close: async () => clients.close() };
}
