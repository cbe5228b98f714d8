import type { DomainError } from "../../../libs/errors/domain-error.js";
import type { RegistryTarget } from "../../../libs/registry/registry-target.js";
import type { Secret } from "../../../libs/secret/secret.js";
import { NoLocalEngineError } from "../builder-mode.js";
import { RegistryRequiredError } from "../build-errors.js";
import type { BuildJob, BuildOutcome, BuildProgress, ImageBuilder } from "../image-builder.js";
import { verifyPushed, type CheckDigest } from "../push-verification.js";
import type { BuilderNode } from "./builder-node.js";
import { createContextSpool } from "../context-spool.js";
import { BuilderNodeLostError, DelegateSetupError, NoBuilderNodeError } from "./delegate-errors.js";
import { createOpenRunNode } from "./openrun-node.js";
import { createGrpcNode, type NodeTlsOptions } from "./grpc-node.js";
import { createNodePool, type NodeState } from "./node-pool.js";

export type { CheckDigest } from "../push-verification.js";

/** Turns an `ecr` target into basic credentials (user `AWS`, a fresh token) on the main install. */
export type ResolvePushTarget = (target: RegistryTarget, signal: AbortSignal) => Promise<RegistryTarget>;

/** Builds a node for a URL of another wire format (`openrun+http://…`). */
export type NodeFactory = (url: string) => BuilderNode | undefined;

export interface DelegateBuilderOptions {
  /** The node URLs of `[builder] mode = "delegate:<url>[,<url>…]"`. */
  readonly urls: readonly string[];
  /** `[system] builder_auth_token`. */
  readonly token: Secret;
  readonly tls?: NodeTlsOptions | undefined;
  /** `[builder] max_upload_bytes` (default 2 GiB). */
  readonly maxUploadBytes?: number;
  /** How often node health and load are polled (default 5 s). */
  readonly pollIntervalMs?: number;
  /** HTTP/2 ping period towards nodes (default 2 s). */
  readonly pingIntervalMs?: number;
  readonly checkDigest: CheckDigest;
  readonly resolvePushTarget?: ResolvePushTarget;
  /** Tried first for each URL; the gRPC node is the default. */
  readonly nodeFactory?: NodeFactory;
  /** Where the context is spooled when there are several nodes (default the OS temp dir). */
  readonly spoolDir?: string;
}

/** The delegate mode, its pool's view typed as the pool keeps it. */
export interface DelegateBuilder extends ImageBuilder {
  nodes(): NodeState[];
}

const defaultMaxUpload = 2 * 1024 ** 3;

/**
 * Creates the `delegate` mode: each build goes to a builder node chosen by
 * rendezvous hashing on the app (warm cache), or to the least loaded healthy
 * node when that one is full. The context is spooled while it is sent, so a
 * node that is unreachable or dies mid-build is replaced by the next one
 * (with a single node it is streamed through, not spooled: nothing to resend);
 * when none is left the build fails with `Unavailable` naming the node. The
 * pushed digest is checked in the registry before the build counts as done.
 * This install needs no container engine.
 */
export function createDelegateBuilder(options: DelegateBuilderOptions): DelegateBuilder {
  if (options.urls.length === 0) throw new DelegateSetupError("builder.mode delegate has no node url: expected delegate:<url>[,<url>…]");
  if (options.token.isEmpty) throw new DelegateSetupError("system.builder_auth_token must be set when using delegated builds");
  const maxUploadBytes = options.maxUploadBytes ?? defaultMaxUpload;
  const nodes = options.urls.map(
    (url) =>
      options.nodeFactory?.(url) ??
      (url.startsWith("openrun+")
        ? createOpenRunNode({ url, token: options.token, ...options.tls })
        : undefined) ??
      createGrpcNode({ url, token: options.token, tls: options.tls, ...(options.pingIntervalMs ? { pingIntervalMs: options.pingIntervalMs } : {}) }),
  );
  const pool = createNodePool(nodes, { pollIntervalMs: options.pollIntervalMs ?? 5000 });

  const destination = async (job: BuildJob, signal: AbortSignal): Promise<RegistryTarget> => {
    if (!job.registry) throw new RegistryRequiredError("delegate", job.buildId);
    if (job.registry.type !== "ecr") return job.registry;
    if (!options.resolvePushTarget) throw new DelegateSetupError(`registry ${job.registry.url} is of type ecr but no ecr token source is configured on this install`);
    return options.resolvePushTarget(job.registry, signal);
  };

  return {
    mode: "delegate",
    nodes: () => pool.snapshot(),
    async status() {
      const nodes = pool.snapshot();
      return { engine: "", version: "", healthy: nodes.some((n) => n.healthy), nodes };
    },
    async hasImage(reference) {
      throw new NoLocalEngineError("delegate", reference);
    },
    async build(job: BuildJob, onProgress: (p: BuildProgress) => void, signal: AbortSignal): Promise<BuildOutcome> {
      const registry = await destination(job, signal);
      // With one node there is no other to resend the context to: it streams straight through, unspooled.
      const spool = await createContextSpool(job.context, { maxBytes: maxUploadBytes, replayable: nodes.length > 1, ...(options.spoolDir ? { dir: options.spoolDir } : {}) });
      try {
        const { context: _context, ...rest } = job;
        const key = job.appId || job.imageKey || job.name;
        const tried = new Set<string>();
        let lost: BuilderNodeLostError | undefined;
        for (;;) {
          const node = (await pool.candidates(key, tried, signal))[0];
          if (!node) throw noNode(lost, pool.snapshot());
          tried.add(node.url);
          onProgress({ type: "node", node: node.url });
          const untrack = pool.track(node.url);
          try {
            const outcome = await node.build({ job: rest, registry, context: () => spool.chunks() }, onProgress, signal);
            return await verify(node.url, outcome, registry, signal);
          } catch (err) {
            if (spool.failure) throw spool.failure;
            if (!(err instanceof BuilderNodeLostError)) throw err;
            lost = err;
            pool.markDown(node.url, err.message);
            onProgress({ type: "log", stream: "system", text: `${err.message}; trying another builder node` });
          } finally {
            untrack();
          }
        }
      } finally {
        await spool.dispose();
      }
    },
    async close() {
      await pool.close();
    },
  };

  async function verify(node: string, outcome: BuildOutcome, registry: RegistryTarget, signal: AbortSignal): Promise<BuildOutcome> {
    const digest = await verifyPushed(options.checkDigest, { by: `builder node ${node}`, reference: outcome.reference, reported: outcome.digest, target: registry }, signal);
    return { reference: outcome.reference, digest };
  }
}

function noNode(lost: BuilderNodeLostError | undefined, states: readonly NodeState[]): DomainError {
  if (lost) return new BuilderNodeLostError(lost.node, lost.started, `${lost.message.replace(/^builder node \S+ [^:]+: /, "")} (no other healthy builder node is left)`);
  const refusal = states.find((s) => s.refusal)?.refusal;
  if (refusal) return refusal;
  const detail = states.map((s) => `${s.url}: ${s.healthy ? "busy" : s.reason}`).join("; ");
  return new NoBuilderNodeError(states.map((s) => s.url), detail);
}
