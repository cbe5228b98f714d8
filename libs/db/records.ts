/**
 * The metadata records as the rest of buildplane sees them: camel case,
 * times in epoch milliseconds, no RPC types.
 */

/** Life cycle of a build, in order of the happy path. */
export const buildStatuses = ["queued", "running", "pushing", "succeeded", "failed", "canceled", "abandoned"] as const;
export type BuildStatus = (typeof buildStatuses)[number];

/** Statuses a build never leaves. */
export const finalStatuses: ReadonlySet<BuildStatus> = new Set<BuildStatus>(["succeeded", "failed", "canceled", "abandoned"]);

/** Statuses the lease reaper may turn into `abandoned`. */
export const activeStatuses: readonly BuildStatus[] = ["queued", "running", "pushing"];

export interface SourceRecord {
  readonly repository: string;
  readonly ref: string;
  readonly dir: string;
}

export interface BuildArgRecord {
  readonly name: string;
  /** Always "" when `secret`: secret values are never stored. */
  readonly value: string;
  readonly secret: boolean;
}

export interface AppRecord {
  readonly id: string;
  readonly name: string;
  readonly source: SourceRecord;
  readonly containerfile: string;
  readonly args: readonly BuildArgRecord[];
  readonly target: string;
  /** Seconds between checks of `source.ref` when no webhook comes; 0: never. */
  readonly pollIntervalSecs: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface BuildRecord {
  readonly id: string;
  readonly appId: string;
  readonly imageKey: string;
  readonly image: string;
  readonly digest: string;
  readonly commit: string;
  readonly treeHash: string;
  readonly mode: string;
  readonly builderNode: string;
  readonly status: BuildStatus;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly createdAt: number;
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
  readonly contextBytes: number;
  readonly requester: string;
  readonly source: SourceRecord;
  /** Containerfile path relative to the build folder. */
  readonly containerfile: string;
  /** Build args as requested; secret ones by name only. */
  readonly args: readonly BuildArgRecord[];
  readonly target: string;
  readonly platform: string;
  /** When the build entered `pushing`. */
  readonly pushedAt: number | undefined;
  /** `build:<imageKey>`: the lease that guards this build. */
  readonly leaseKey: string;
  /** Token of that lease the build is bound to; 0: unbound, never reaped. */
  readonly leaseToken: number;
  /** When garbage collection deleted the image; undefined while it exists. */
  readonly collectedAt?: number | undefined;
  /** Kept by garbage collection whatever its age. */
  readonly pinned?: boolean;
}

/** Fields `UpdateBuild` may change. */
export type BuildPatch = Partial<
  Pick<
    BuildRecord,
    "status" | "image" | "digest" | "commit" | "treeHash" | "builderNode" | "errorCode" | "errorMessage" | "contextBytes" | "startedAt" | "pushedAt" | "finishedAt" | "leaseToken"
  >
>;

export type LogStreamName = "stdout" | "stderr" | "system";

export interface LogLineRecord {
  readonly seq: number;
  readonly stream: LogStreamName;
  readonly text: string;
  readonly timeMs: number;
}

export interface LeaseRecord {
  readonly key: string;
  readonly holder: string;
  readonly token: number;
  /** Epoch ms on the database clock; 0 once released. */
  readonly expiresAt: number;
}

/** The lease key that guards builds of one image. */
export function buildLeaseKey(imageKey: string): string {
  return `build:${imageKey}`;
}
