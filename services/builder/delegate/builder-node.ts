import type { DomainError } from "../../../libs/errors/domain-error.js";
import type { RegistryTarget } from "../../../libs/registry/registry-target.js";
import type { BuildJob, BuildOutcome, BuildProgress } from "../image-builder.js";

/** Health and load of a node, as its last probe saw them. */
export interface NodeLoad {
  readonly healthy: boolean;
  readonly capacity: number;
  readonly running: number;
  readonly queued: number;
  /** Why the node is unhealthy ("" when healthy). */
  readonly reason: string;
  /** A refusal that retrying will not cure (wrong token), reported as is when no node is left. */
  readonly refusal?: DomainError | undefined;
}

/** One build as sent to a node: the job without its stream, the context as replayable chunks. */
export interface NodeBuild {
  readonly job: Omit<BuildJob, "context">;
  /** The destination with credentials as values (ECR already turned into a token). */
  readonly registry: RegistryTarget;
  /** A fresh pass over the whole context each call. */
  readonly context: () => AsyncIterable<Uint8Array>;
}

/** What a node reports at the end; `digest` is "" when its wire format carries none. */
export type NodeOutcome = BuildOutcome;

/**
 * A builder node behind one wire format (buildplane gRPC, OpenRun HTTP). It
 * throws `BuilderNodeLostError` when the node cannot be reached or goes away,
 * so the pool can try another, and another `DomainError` when the node
 * answers with an error of its own.
 */
export interface BuilderNode {
  /** The URL as configured; it names the node in events and errors. */
  readonly url: string;
  probe(signal: AbortSignal): Promise<NodeLoad>;
  build(build: NodeBuild, onProgress: (p: BuildProgress) => void, signal: AbortSignal): Promise<NodeOutcome>;
  close(): Promise<void>;
}
