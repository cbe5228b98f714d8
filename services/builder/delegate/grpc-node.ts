import type { Http2Session } from "node:http2";
import { rootCertificates } from "node:tls";
import { createClient, type Client } from "@connectrpc/connect";
import { Http2SessionManager } from "@connectrpc/connect-node";
import { BuilderService, type BuildRequest } from "../../../libs/gen/buildplane/v1/builder_pb.js";
import { LogStream } from "../../../libs/gen/buildplane/v1/common_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "../../../libs/gen/grpc/health/v1/health_pb.js";
import { createBearerTokenInterceptor } from "../../../libs/rpc/auth-interceptor.js";
import { createTraceHeaderInterceptor } from "../../../libs/tracing/rpc-tracing.js";
import { errorCodeFromName } from "../../../libs/errors/domain-error.js";
import type { Secret } from "../../../libs/secret/secret.js";
import { buildHeaderFromJob } from "../build-job.js";
import type { BuildProgress } from "../image-builder.js";
import type { BuilderNode, NodeBuild, NodeLoad, NodeOutcome } from "./builder-node.js";
import { BuilderNodeRejectedError } from "./delegate-errors.js";
import { classifyNodeError } from "./node-errors.js";
import { createNodeTransport } from "./context-framing.js";

/** TLS towards the nodes: the CA the main install trusts, and its client certificate for mTLS. */
export interface NodeTlsOptions {
  readonly caPem?: string;
  readonly certPem?: string;
  readonly keyPem?: Secret;
}

export interface GrpcNodeOptions {
  /** `http://host:port` (h2c) or `https://host:port`. */
  readonly url: string;
  readonly token: Secret;
  readonly tls?: NodeTlsOptions | undefined;
  /** HTTP/2 ping period; a node that misses a ping for as long is dropped. */
  readonly pingIntervalMs?: number;
  /** Longest wait for a health answer when probing. */
  readonly probeTimeoutMs?: number;
}

const streams = { [LogStream.STDOUT]: "stdout", [LogStream.STDERR]: "stderr", [LogStream.SYSTEM]: "system", [LogStream.UNSPECIFIED]: "stdout" } as const;

/**
 * A buildplane builder node reached over gRPC (h2c or TLS, bearer token).
 * HTTP/2 pings run while a build streams, so a node that dies or drops off
 * the network is noticed within two ping periods, not at a TCP timeout.
 */
export function createGrpcNode(options: GrpcNodeOptions): BuilderNode {
  const ping = options.pingIntervalMs ?? 2000;
  const probeTimeoutMs = options.probeTimeoutMs ?? 2000;
  const tls = options.tls;
  const session = new GuardedSessionManager(
    options.url,
    { pingIntervalMs: ping, pingTimeoutMs: ping, pingIdleConnection: false, idleConnectionTimeoutMs: 60_000 },
    {
      ...(tls?.caPem ? { ca: [...rootCertificates, tls.caPem] } : {}),
      ...(tls?.certPem ? { cert: tls.certPem } : {}),
      ...(tls?.keyPem ? { key: tls.keyPem.unwrap() } : {}),
    },
  );
  const transport = createNodeTransport({
    baseUrl: options.url,
    sessionManager: session,
    interceptors: [createTraceHeaderInterceptor(), createBearerTokenInterceptor(options.token)],
  });
  const builder: Client<typeof BuilderService> = createClient(BuilderService, transport);
  const health: Client<typeof Health> = createClient(Health, transport);

  const alive = async (): Promise<boolean> => {
    try {
      const res = await health.check({ service: "" }, { signal: AbortSignal.timeout(probeTimeoutMs) });
      return res.status === Serving.SERVING;
    } catch {
      return false;
    }
  };

  return {
    url: options.url,
    async probe(signal) {
      const timeout = AbortSignal.any([signal, AbortSignal.timeout(probeTimeoutMs)]);
      try {
        const h = await health.check({ service: BuilderService.typeName }, { signal: timeout });
        if (h.status !== Serving.SERVING) return down("the builder service is not serving");
        const s = await builder.getStatus({}, { signal: timeout });
        if (!s.healthy) return down(`its ${s.engine || "engine"} does not answer`);
        return { healthy: true, capacity: s.capacity, running: s.running, queued: s.queued, reason: "" };
      } catch (err) {
        const e = await classifyNodeError(options.url, err, false, signal, async () => false);
        return { ...down(e.message), ...(e instanceof BuilderNodeRejectedError ? { refusal: e } : {}) };
      }
    },
    async build(build: NodeBuild, onProgress: (p: BuildProgress) => void, signal: AbortSignal): Promise<NodeOutcome> {
      const job = build.job;
      const header = buildHeaderFromJob(job, build.registry);
      async function* requests(): AsyncGenerator<BuildRequest> {
        yield { $typeName: "buildplane.v1.BuildRequest", message: { case: "header", value: header } };
        for await (const chunk of build.context()) yield { $typeName: "buildplane.v1.BuildRequest", message: { case: "chunk", value: chunk } };
      }
      let started = false;
      let outcome: NodeOutcome | undefined;
      try {
        for await (const res of builder.build(requests(), { signal })) {
          started = true;
          const ev = res.event?.event;
          switch (ev?.case) {
            case "queued":
              onProgress({ type: "log", stream: "system", text: `queued on ${options.url} at position ${ev.value.position}` });
              break;
            case "log":
              onProgress({ type: "log", stream: streams[ev.value.stream], text: ev.value.text });
              break;
            case "progress":
              onProgress({ type: "progress", step: ev.value.step, totalSteps: ev.value.totalSteps, message: ev.value.message });
              break;
            case "pushed":
              onProgress({ type: "pushed", reference: ev.value.reference, digest: ev.value.digest });
              break;
            case "ready":
              outcome = { reference: ev.value.image, digest: ev.value.digest };
              break;
            case "failed":
              throw new BuilderNodeRejectedError(options.url, errorCodeFromName(ev.value.code), ev.value.message);
          }
        }
      } catch (err) {
        throw await classifyNodeError(options.url, err, started, signal, alive);
      }
      if (!outcome) throw await classifyNodeError(options.url, new Error("the build stream ended without a result"), started, signal, alive);
      return outcome;
    },
    async close() {
      session.abort();
    },
  };
}

/**
 * connect-node's session manager, keeping a late error of a dropped HTTP/2
 * session from becoming an uncaught exception that would end this process:
 * when a node hangs, the manager drops its listeners from the session whose
 * ping timed out before Node emits that session's "error" (or the socket's
 * reset once the node dies). The failure itself still reaches the build.
 */
class GuardedSessionManager extends Http2SessionManager {
  private readonly guarded = new WeakSet<Http2Session>();

  override async request(...args: Parameters<Http2SessionManager["request"]>): ReturnType<Http2SessionManager["request"]> {
    const stream = await super.request(...args);
    const conn = stream.session;
    if (conn && !this.guarded.has(conn)) {
      this.guarded.add(conn);
      conn.on("error", () => undefined);
    }
    return stream;
  }
}

function down(reason: string): NodeLoad {
  return { healthy: false, capacity: 0, running: 0, queued: 0, reason };
}
