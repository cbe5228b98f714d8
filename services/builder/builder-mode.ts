import type { Client } from "@connectrpc/connect";
import type { ResolvedConfig } from "../../libs/config/config-types.js";
import { DomainError } from "../../libs/errors/domain-error.js";
import type { BuildHeader } from "../../libs/gen/buildplane/v1/builder_pb.js";
import type { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import type { BuildplaneMetrics } from "../../libs/metrics/buildplane-metrics.js";
import type { RegistryClientPool } from "../../libs/registry/registry-client-pool.js";
import type { RpcLogger } from "../../libs/rpc/logger.js";
import type { ModeCapabilities } from "../../libs/build/capability-check.js";
import type { BuilderModeKind, ImageBuilder } from "./image-builder.js";

/**
 * What a mode can do, as data: the lifecycle checks a request against it
 * before any slot is taken, `GetStatus` reports it so the resolver can refuse
 * a build before it takes a lease or writes a record, and the composition
 * root never asks a mode's name.
 */
export type { ModeCapabilities } from "../../libs/build/capability-check.js";

/** What every mode may use when it is created; each takes the few it needs. */
export interface BuilderModeDeps {
  /** The configuration the builder service starts with. */
  readonly config: ResolvedConfig;
  /** The live configuration (the kaniko sweeper re-reads it). */
  currentConfig(): ResolvedConfig;
  /** The builder's registry clients, one per destination. */
  readonly registries: RegistryClientPool;
  readonly metadata: Client<typeof MetadataService>;
  /** Resolves once the metadata service can answer (at once when it runs elsewhere). */
  metadataReady(): Promise<void>;
  readonly log: RpcLogger;
  /** Build phase durations (`build`, `push`) for the modes that can tell them apart. */
  readonly metrics?: BuildplaneMetrics;
  /** Aborts at shutdown. */
  readonly signal: AbortSignal;
  /** Registers a clean-up run at shutdown. */
  defer(cleanup: () => Promise<void>): void;
}

/**
 * One builder mode as its folder exports it: `command/`, `kaniko/` and
 * `delegate/` each export one of these, and the composition root picks one
 * from an exhaustive table by `[builder] mode`.
 */
export interface BuilderModeModule {
  readonly kind: BuilderModeKind;
  readonly capabilities: ModeCapabilities;
  create(deps: BuilderModeDeps): ImageBuilder;
  /**
   * What a build with this header would create, as JSON lines with secret
   * data redacted, without creating anything (`build --dry-run`); absent
   * for modes with nothing of their own to show.
   */
  readonly dryRun?: (config: ResolvedConfig, header: BuildHeader) => Promise<string[]>;
}

/** A mode asked for something it has no local engine for (`HasImage` on kaniko or delegate). */
export class NoLocalEngineError extends DomainError {
  constructor(readonly mode: BuilderModeKind, readonly reference: string) {
    super("failedPrecondition", `builder mode ${mode} has no local engine to look up ${reference}`);
  }
}
