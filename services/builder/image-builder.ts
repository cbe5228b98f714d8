import type { Readable } from "node:stream";
import type { RegistryTarget } from "../../libs/registry/registry-target.js";
import type { Secret } from "../../libs/secret/secret.js";

/**
 * One build as every mode sees it: the context arrives as an uncompressed tar
 * stream; the spec is already validated (paths confined, args checked).
 */
export interface BuildJob {
  readonly buildId: string;
  /** Local name, `cli-<app>:<16 hex>`. */
  readonly name: string;
  /** The one registry-qualified reference (equal to `name` without a registry). */
  readonly reference: string;
  /** Content key of the inputs (hex), for labels and affinity. */
  readonly imageKey: string;
  readonly appId: string;
  /** Containerfile path inside the context. */
  readonly containerfile: string;
  /** Build args in sorted order; secret values stay wrapped. */
  readonly args: readonly BuildJobArg[];
  readonly target: string;
  readonly platform: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Where to push; undefined keeps the image local. */
  readonly registry: RegistryTarget | undefined;
  /** The build context (uncompressed tar). */
  readonly context: Readable;
  readonly contextBytes: number | undefined;
  readonly timeoutSecs: number;
}

export interface BuildJobArg {
  readonly name: string;
  readonly value: string | Secret;
}

/** What a mode reports while it builds. */
export type BuildProgress =
  | { readonly type: "log"; readonly stream: "stdout" | "stderr" | "system"; readonly text: string }
  | { readonly type: "progress"; readonly step: number; readonly totalSteps: number; readonly message: string }
  | { readonly type: "pushed"; readonly reference: string; readonly digest: string }
  | { readonly type: "node"; readonly node: string };

/** How a build ended well. */
export interface BuildOutcome {
  readonly reference: string;
  /** Manifest digest in the registry, or the local image id without one. */
  readonly digest: string;
}

/** The builder modes, as `[builder] mode` names them. */
export type BuilderModeKind = "command" | "kaniko" | "delegate";

/** One builder node of a delegate pool, as `GetStatus` reports it. */
export interface BuilderNodeView {
  readonly url: string;
  readonly healthy: boolean;
  readonly capacity: number;
  readonly running: number;
  readonly queued: number;
  readonly reason: string;
  readonly inFlight: number;
  /** Reached over plain HTTP across the network. */
  readonly plaintext?: boolean;
}

/** What a mode reports about where it builds, for `GetStatus`. */
export interface ModeStatus {
  /** The local engine's name ("" for modes without one). */
  readonly engine: string;
  readonly version: string;
  /** Whether the mode can build now (engine answers, a node is healthy…). */
  readonly healthy: boolean;
  /** The delegate pool's nodes as last probed; empty for other modes. */
  readonly nodes: readonly BuilderNodeView[];
}

/**
 * A running builder mode (command, kaniko, delegate). `build` reports
 * progress through `onProgress`, resolves with the outcome, and rejects with
 * a `DomainError` (code and message) on failure. Aborting `signal` must stop
 * the build where it runs (engine build, Job, remote node) before the
 * promise settles; the reason of the abort is the build's error, so a mode
 * never words a cancellation or a timeout itself. A mode that pushes and
 * reports the digest leaves checking it in the registry to the lifecycle.
 */
export interface ImageBuilder {
  readonly mode: BuilderModeKind;
  build(job: BuildJob, onProgress: (p: BuildProgress) => void, signal: AbortSignal): Promise<BuildOutcome>;
  /** Engine or pool health, for `GetStatus`. */
  status(signal: AbortSignal): Promise<ModeStatus>;
  /** The pool's builder nodes as last probed, without probing (metrics read it per scrape); empty for modes without a pool. */
  nodes(): readonly BuilderNodeView[];
  /** Looks the image up in the local engine; refused with failedPrecondition by modes without one. */
  hasImage(reference: string, signal: AbortSignal): Promise<{ readonly exists: boolean; readonly digest: string }>;
  /** Releases connections, timers and watchers. */
  close(): Promise<void>;
}
