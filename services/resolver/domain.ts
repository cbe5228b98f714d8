import type { Secret } from "../../libs/secret/secret.js";

/**
 * The resolver's own types: what a request asks for, what the flow yields,
 * and what it stores. Plain readonly data with secrets wrapped in `Secret`;
 * the handler (wire-in.ts, wire-out.ts) and the adapters of the other
 * services' clients are the only places that know the generated types.
 */

/** The credentials a request carries for its git source. */
export interface SourceCredentials {
  readonly username: string;
  readonly password: Secret | undefined;
  readonly privateKey: Secret | undefined;
}

/** Where the source is: a repository (or local folder), a ref, a folder in it. */
export interface SourceLocation {
  readonly repository: string;
  readonly ref: string;
  readonly dir: string;
  /** A `[git_auth.<name>]` entry of the server's config; "" for none. */
  readonly authName: string;
  readonly credentials: SourceCredentials | undefined;
}

/** A build arg; a secret one has its value wrapped. */
export interface BuildArgument {
  readonly name: string;
  readonly value: string | Secret;
}

/** What a caller asks for: the inputs that name an image and build it. */
export interface ImageSpec {
  readonly appId: string;
  readonly source: SourceLocation | undefined;
  /** As the caller gave it ("" or "auto": found by the source service). */
  readonly containerfile: string;
  readonly args: readonly BuildArgument[];
  readonly target: string;
  readonly platform: string;
  readonly requester: string;
}

/** An image's name: its key, its name and its registry-qualified reference. */
export interface ImageRef {
  readonly key: string;
  readonly name: string;
  readonly reference: string;
}

/** What resolving a spec found: the name, the inputs, and whether the image exists. */
export interface ResolvedImage {
  readonly image: ImageRef;
  readonly commit: string;
  readonly treeHash: string;
  /** Containerfile path relative to the build folder. */
  readonly containerfile: string;
  readonly exists: boolean;
  readonly digest: string;
}

/** Which output a log line came from; "system" lines are buildplane's own. */
export type LogStreamName = "unspecified" | "stdout" | "stderr" | "system";

/** One line of build output. */
export interface LogEntry {
  /** Sequence number within the build as its writer gave it (0: numbered when stored). */
  readonly seq: bigint;
  readonly stream: LogStreamName;
  readonly text: string;
  readonly time: Date | undefined;
}

/** What happens to a build, as the flow reports it; `buildId` and `time` are added by `ImageEvent`. */
export type ImageEventBody =
  | { readonly type: "queued"; readonly position: number }
  | { readonly type: "started"; readonly image: ImageRef | undefined; readonly mode: string; readonly builderNode: string; readonly commit: string }
  | { readonly type: "log"; readonly line: LogEntry }
  | { readonly type: "progress"; readonly step: number; readonly totalSteps: number; readonly message: string; readonly bytes: bigint }
  | { readonly type: "pushed"; readonly reference: string; readonly digest: string }
  | { readonly type: "ready"; readonly image: string; readonly digest: string; readonly cached: boolean }
  /** `code` is an RPC code name (`failed_precondition`, `canceled`…). */
  | { readonly type: "failed"; readonly code: string; readonly message: string; readonly logTail: readonly string[] };

/** One event of an EnsureImage stream. */
export type ImageEvent = ImageEventBody & {
  /** "" before a build record exists. */
  readonly buildId: string;
  readonly time: Date;
};

/** An event of `buildId`, stamped now. */
export function imageEvent(buildId: string, body: ImageEventBody): ImageEvent {
  return { ...body, buildId, time: new Date() };
}

/** The status of a stored build. */
export type BuildState = "unspecified" | "queued" | "running" | "pushing" | "succeeded" | "failed" | "canceled" | "abandoned";

/** A new build record: inputs by name only, no secret value and no URL credentials. */
export interface NewBuild {
  readonly appId: string;
  readonly imageKey: string;
  readonly image: string;
  readonly commit: string;
  readonly treeHash: string;
  readonly mode: string;
  readonly status: BuildState;
  readonly requester: string;
  readonly source: Omit<SourceLocation, "credentials">;
  readonly containerfile: string;
  /** Secret args with an empty value. */
  readonly args: readonly { readonly name: string; readonly value: string; readonly secret: boolean }[];
  readonly target: string;
  readonly platform: string;
}

/** Fields of a build record a run changes. */
export interface RecordFields {
  readonly status?: BuildState;
  readonly image?: string;
  readonly digest?: string;
  readonly builderNode?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

/** A stored build, as far as following it needs. */
export interface StoredBuild {
  readonly id: string;
  readonly status: BuildState;
  readonly mode: string;
  readonly builderNode: string;
  readonly digest: string;
  readonly errorCode: string;
  readonly errorMessage: string;
}
