import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  BuildEventSchema,
  BuildSpecSchema,
  BuildStatus,
  GitSourceSchema,
  ImageRefSchema,
  LogStream,
  type BuildEvent,
  type BuildSpec,
  type GitSource,
  type ImageRef as WireImageRef,
  type LogLine,
} from "../../libs/gen/buildplane/v1/common_pb.js";
import type { BuildSchema, UpdateBuildRequestSchema } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { Secret } from "../../libs/secret/secret.js";
import type { BuildState, ImageEvent, ImageEventBody, ImageRef, ImageSpec, LogEntry, LogStreamName, NewBuild, RecordFields, SourceLocation } from "./domain.js";

/**
 * Domain → wire: the events the resolver's handlers answer with, and what
 * its adapters send to the other services. Secret values are unwrapped
 * only here, where a request to their consumer is built.
 */

/** An EnsureImage event as the caller receives it. */
export function imageEventToWire(e: ImageEvent): BuildEvent {
  return create(BuildEventSchema, { buildId: e.buildId, time: timestampFromDate(e.time), event: eventBodyToWire(e) });
}

/** The `event` oneof of a body. */
export function eventBodyToWire(b: ImageEventBody): MessageInitShape<typeof BuildEventSchema>["event"] {
  switch (b.type) {
    case "queued":
      return { case: "queued", value: { position: b.position } };
    case "started":
      return { case: "started", value: { image: b.image === undefined ? undefined : imageRefToWire(b.image), mode: b.mode, builderNode: b.builderNode, commit: b.commit } };
    case "log":
      return { case: "log", value: logLineToWire(b.line) };
    case "progress":
      return { case: "progress", value: { step: b.step, totalSteps: b.totalSteps, message: b.message, bytes: b.bytes } };
    case "pushed":
      return { case: "pushed", value: { reference: b.reference, digest: b.digest } };
    case "ready":
      return { case: "ready", value: { image: b.image, digest: b.digest, cached: b.cached } };
    case "failed":
      return { case: "failed", value: { code: b.code, message: b.message, logTail: [...b.logTail] } };
  }
}

/** An image name. */
export function imageRefToWire(i: ImageRef): WireImageRef {
  return create(ImageRefSchema, { key: i.key, name: i.name, reference: i.reference });
}

const streams: Record<LogStreamName, LogStream> = {
  unspecified: LogStream.UNSPECIFIED,
  stdout: LogStream.STDOUT,
  stderr: LogStream.STDERR,
  system: LogStream.SYSTEM,
};

/** A log line. */
export function logLineToWire(l: LogEntry): LogLine {
  return { $typeName: "buildplane.v1.LogLine", seq: l.seq, stream: streams[l.stream], text: l.text, time: l.time === undefined ? undefined : timestampFromDate(l.time) };
}

const statuses: Record<BuildState, BuildStatus> = {
  unspecified: BuildStatus.UNSPECIFIED,
  queued: BuildStatus.QUEUED,
  running: BuildStatus.RUNNING,
  pushing: BuildStatus.PUSHING,
  succeeded: BuildStatus.SUCCEEDED,
  failed: BuildStatus.FAILED,
  canceled: BuildStatus.CANCELED,
  abandoned: BuildStatus.ABANDONED,
};

/** A build's status. */
export function buildStateToWire(s: BuildState): BuildStatus {
  return statuses[s];
}

/** A spec, its secret values unwrapped, for the builder's header. */
export function imageSpecToWire(spec: ImageSpec): BuildSpec {
  return create(BuildSpecSchema, {
    appId: spec.appId,
    source: spec.source === undefined ? undefined : sourceToWire(spec.source),
    containerfile: spec.containerfile,
    args: spec.args.map((a) => (a.value instanceof Secret ? { name: a.name, value: a.value.unwrap(), secret: true } : { name: a.name, value: a.value, secret: false })),
    target: spec.target,
    platform: spec.platform,
    requester: spec.requester,
  });
}

/** A git source, its credentials unwrapped, for the source service. */
export function sourceToWire(s: SourceLocation): GitSource {
  const c = s.credentials;
  return create(GitSourceSchema, {
    repository: s.repository,
    ref: s.ref,
    dir: s.dir,
    authName: s.authName,
    credentials: c === undefined ? undefined : { username: c.username, password: c.password?.unwrap() ?? "", privateKey: c.privateKey?.unwrap() ?? "" },
  });
}

/** A new build record. */
export function newBuildToWire(b: NewBuild): MessageInitShape<typeof BuildSchema> {
  return {
    appId: b.appId,
    imageKey: b.imageKey,
    image: b.image,
    commit: b.commit,
    treeHash: b.treeHash,
    mode: b.mode,
    status: buildStateToWire(b.status),
    requester: b.requester,
    source: create(GitSourceSchema, { repository: b.source.repository, ref: b.source.ref, dir: b.source.dir, authName: b.source.authName }),
    containerfile: b.containerfile,
    args: b.args.map((a) => ({ name: a.name, value: a.value, secret: a.secret })),
    target: b.target,
    platform: b.platform,
  };
}

/** The changed fields of a record, unset ones left out. */
export function recordFieldsToWire(f: RecordFields): Omit<MessageInitShape<typeof UpdateBuildRequestSchema>, "id" | "fencingToken" | "$typeName"> {
  return {
    ...(f.status !== undefined ? { status: buildStateToWire(f.status) } : {}),
    ...(f.image !== undefined ? { image: f.image } : {}),
    ...(f.digest !== undefined ? { digest: f.digest } : {}),
    ...(f.builderNode !== undefined ? { builderNode: f.builderNode } : {}),
    ...(f.errorCode !== undefined ? { errorCode: f.errorCode } : {}),
    ...(f.errorMessage !== undefined ? { errorMessage: f.errorMessage } : {}),
  };
}
