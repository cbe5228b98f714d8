import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  BuildStatus as PbBuildStatus,
  GitSourceSchema,
  LogLineSchema,
  LogStream as PbLogStream,
  type GitSource,
  type LogLine,
} from "../../libs/gen/buildplane/v1/common_pb.js";
import { AppSchema, BuildSchema, LeaseSchema, type App, type Build, type Lease } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { repositoryWithoutCredentials } from "../../libs/image/repository-without-credentials.js";
import type { AppRecord, BuildRecord, BuildStatus, LeaseRecord, LogLineRecord, LogStreamName, SourceRecord } from "../../libs/db/records.js";
import type { AppInput } from "./apps.js";
import type { NewBuild } from "./builds.js";
import type { IncomingLogLine } from "./logs.js";
import { InvalidFieldError } from "./errors.js";

// The edge between generated messages and our records; nothing else in the
// domain sees a `_pb` type.

const statusToPb: Readonly<Record<BuildStatus, PbBuildStatus>> = {
  queued: PbBuildStatus.QUEUED,
  running: PbBuildStatus.RUNNING,
  pushing: PbBuildStatus.PUSHING,
  succeeded: PbBuildStatus.SUCCEEDED,
  failed: PbBuildStatus.FAILED,
  canceled: PbBuildStatus.CANCELED,
  abandoned: PbBuildStatus.ABANDONED,
};
const statusFromPb = new Map<PbBuildStatus, BuildStatus>(Object.entries(statusToPb).map(([k, v]) => [v, k as BuildStatus]));

const streamToPb: Readonly<Record<LogStreamName, PbLogStream>> = {
  stdout: PbLogStream.STDOUT,
  stderr: PbLogStream.STDERR,
  system: PbLogStream.SYSTEM,
};

/** Our status as the generated enum. */
export function buildStatusToPb(status: BuildStatus): PbBuildStatus {
  return statusToPb[status];
}

/** The generated enum as our status; undefined for UNSPECIFIED; InvalidArgument for unknown numbers. */
export function buildStatusFromPb(status: PbBuildStatus, field: string): BuildStatus | undefined {
  if (status === PbBuildStatus.UNSPECIFIED) return undefined;
  const s = statusFromPb.get(status);
  if (!s) throw new InvalidFieldError(field, String(status), "a BuildStatus value from 1 to 7");
  return s;
}

function ts(ms: number | undefined): Timestamp | undefined {
  return ms === undefined ? undefined : timestampFromMs(ms);
}

function sourceToPb(s: SourceRecord): GitSource {
  return create(GitSourceSchema, { repository: s.repository, ref: s.ref, dir: s.dir });
}

/**
 * Source as stored: credentials, whether sent apart or written into the
 * repository URL, and the auth choice are never kept.
 */
function sourceFromPb(s: GitSource | undefined): SourceRecord {
  return { repository: repositoryWithoutCredentials(s?.repository ?? ""), ref: s?.ref ?? "", dir: s?.dir ?? "" };
}

export function buildToPb(b: BuildRecord): Build {
  return create(BuildSchema, {
    id: b.id,
    appId: b.appId,
    imageKey: b.imageKey,
    image: b.image,
    digest: b.digest,
    commit: b.commit,
    treeHash: b.treeHash,
    mode: b.mode,
    builderNode: b.builderNode,
    status: statusToPb[b.status],
    errorCode: b.errorCode,
    errorMessage: b.errorMessage,
    createTime: ts(b.createdAt),
    startTime: ts(b.startedAt),
    finishTime: ts(b.finishedAt),
    contextBytes: BigInt(b.contextBytes),
    requester: b.requester,
    source: sourceToPb(b.source),
    containerfile: b.containerfile,
    args: b.args.map((x) => ({ name: x.name, value: x.secret ? "" : x.value, secret: x.secret })),
    target: b.target,
    platform: b.platform,
    pushTime: ts(b.pushedAt),
    collectTime: ts(b.collectedAt),
    pinned: b.pinned === true,
  });
}

export function newBuildFromPb(b: Build | undefined): NewBuild {
  if (!b) throw new InvalidFieldError("build", "", "a build");
  return {
    appId: b.appId,
    imageKey: b.imageKey,
    image: b.image,
    digest: b.digest,
    commit: b.commit,
    treeHash: b.treeHash,
    mode: b.mode,
    builderNode: b.builderNode,
    status: buildStatusFromPb(b.status, "build.status"),
    contextBytes: Number(b.contextBytes),
    requester: b.requester,
    source: sourceFromPb(b.source),
    containerfile: b.containerfile,
    // A secret arg is kept by name only.
    args: b.args.map((x) => ({ name: x.name, value: x.secret ? "" : x.value, secret: x.secret })),
    target: b.target,
    platform: b.platform,
  };
}

export function appToPb(a: AppRecord): App {
  return create(AppSchema, {
    id: a.id,
    name: a.name,
    source: sourceToPb(a.source),
    containerfile: a.containerfile,
    args: a.args.map((x) => ({ name: x.name, value: x.value, secret: x.secret })),
    target: a.target,
    pollIntervalSecs: a.pollIntervalSecs,
    createTime: ts(a.createdAt),
    updateTime: ts(a.updatedAt),
  });
}

export function appFromPb(a: App | undefined): AppInput {
  if (!a) throw new InvalidFieldError("app", "", "an app");
  return {
    id: a.id,
    name: a.name,
    source: sourceFromPb(a.source),
    containerfile: a.containerfile,
    args: a.args.map((x) => ({ name: x.name, value: x.secret ? "" : x.value, secret: x.secret })),
    target: a.target,
    pollIntervalSecs: a.pollIntervalSecs,
  };
}

export function logLineToPb(l: LogLineRecord): LogLine {
  return create(LogLineSchema, { seq: BigInt(l.seq), stream: streamToPb[l.stream], text: l.text, time: timestampFromMs(l.timeMs) });
}

/** A line from a writer; unspecified stream means stdout. */
export function logLineFromPb(l: LogLine): IncomingLogLine {
  const stream: LogStreamName = l.stream === PbLogStream.STDERR ? "stderr" : l.stream === PbLogStream.SYSTEM ? "system" : "stdout";
  return { stream, text: l.text, timeMs: l.time ? timestampMs(l.time) : undefined };
}

export function leaseToPb(l: LeaseRecord | undefined): Lease | undefined {
  return l && create(LeaseSchema, { key: l.key, holder: l.holder, token: BigInt(l.token), expireTime: timestampFromMs(l.expiresAt) });
}

/** A uint64 request field as a safe number; InvalidArgument when too large. */
export function safeNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidFieldError(field, value.toString(), `at most ${Number.MAX_SAFE_INTEGER}`);
  return Number(value);
}
