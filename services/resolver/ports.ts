import type { CapabilityRequest } from "../../libs/build/capability-check.js";
import type { RegistryTarget } from "../../libs/registry/registry-target.js";
import type { ImageEventBody, ImageRef, ImageSpec, LogEntry, NewBuild, RecordFields, SourceLocation, StoredBuild } from "./domain.js";

/**
 * The resolver's view of the other services, in its own types: the flow
 * modules depend on these few methods only, the adapters (metadata-port.ts,
 * source-port.ts, builder-port.ts) hold the generated clients. A service's
 * RPC error reaches the flow as a `CallError` (call-error.ts), a domain
 * error with the status's code and message, which the flow classifies by
 * code.
 */

/** The metadata service's build leases. */
export interface LeasePort {
  /** Takes `key` for `holder` when it is free or expired, or from `replaceHolder` when that one still holds it. */
  acquire(req: { readonly key: string; readonly holder: string; readonly ttlMs: number; readonly replaceHolder?: string }): Promise<LeaseAnswer>;
  renew(req: { readonly key: string; readonly holder: string; readonly token: bigint; readonly ttlMs: number }): Promise<void>;
  release(req: { readonly key: string; readonly holder: string; readonly token: bigint }): Promise<void>;
}

/** What `LeasePort.acquire` answered: taken or not, and who holds the lease now ("" and 0n when unknown). */
export interface LeaseAnswer {
  readonly acquired: boolean;
  readonly holder: string;
  readonly token: bigint;
}

/** The metadata service's builds and their logs; every write carries the lease's fencing token. */
export interface BuildStorePort {
  /** Creates the record and returns its id. */
  create(build: NewBuild, fencingToken: bigint): Promise<string>;
  update(id: string, fields: RecordFields, fencingToken: bigint): Promise<void>;
  appendLogs(id: string, lines: readonly LogEntry[], fencingToken: bigint): Promise<void>;
  /** The newest build of `imageKey`, or undefined when there is none. */
  latest(imageKey: string, signal: AbortSignal): Promise<StoredBuild | undefined>;
  get(id: string, signal: AbortSignal): Promise<StoredBuild | undefined>;
  /** The stored log of `id` from its first line, following it until the build ends. */
  followLogs(id: string, signal: AbortSignal): AsyncIterable<readonly LogEntry[]>;
}

/** Both halves of the metadata service the flow uses. */
export type MetadataPort = LeasePort & BuildStorePort;

/** What the source service found for a spec, without a checkout. */
export interface DescribedSource {
  readonly commit: string;
  readonly treeHash: string;
  /** Containerfile path relative to the build folder. */
  readonly containerfile: string;
}

/** The source service: commits, tree hashes and build contexts. */
export interface SourcePort {
  describe(source: SourceLocation | undefined, containerfile: string, signal: AbortSignal | undefined): Promise<DescribedSource>;
  /** The build context of `commit` as tar chunks. */
  streamContext(source: SourceLocation | undefined, commit: string, containerfile: string, signal: AbortSignal): AsyncIterable<Uint8Array>;
}

/** One build as the builder gets it: the spec and what resolving it found. */
export interface BuildOrder {
  readonly buildId: string;
  readonly spec: ImageSpec;
  readonly image: ImageRef;
  /** "" for a folder source. */
  readonly commit: string;
  /** Containerfile path relative to the build folder. */
  readonly containerfile: string;
  readonly registry: RegistryTarget | undefined;
  readonly timeoutSecs: number;
}

/** The builder service. */
export interface BuilderPort {
  /**
   * Refuses, with the builder's own rule and wording, a request its mode
   * cannot serve; a builder that reports no capabilities is trusted to
   * refuse by itself.
   */
  checkServable(request: CapabilityRequest, signal: AbortSignal): Promise<void>;
  /** Builds `order` from `context`, yielding the builder's events; a failed build throws its RPC error. */
  build(order: BuildOrder, context: AsyncIterable<Uint8Array>, signal: AbortSignal): AsyncIterable<ImageEventBody>;
}

/** The services one EnsureImage flow talks to. */
export interface EnsurePorts {
  readonly source: SourcePort;
  readonly builder: BuilderPort;
  readonly metadata: MetadataPort;
}


/** Where an image was found, as ResolveImage reports it. */
export type FoundIn = "registry" | "engine";

/**
 * Answers "does this reference exist, and under which digest" from one
 * place: the registry when one is configured, else the local engine
 * (image-locator.ts). undefined means missing; any failure to answer
 * throws (a 401 is never taken for "missing").
 */
export interface ImageLocator {
  readonly kind: FoundIn;
  find(reference: string, signal: AbortSignal | undefined): Promise<{ readonly digest: string } | undefined>;
}
