import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { BuildEvent, BuildSpec, GitSource, LogLine } from "../../libs/gen/buildplane/v1/common_pb.js";
import { BuildStatus, LogStream } from "../../libs/gen/buildplane/v1/common_pb.js";
import type { Build } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { errorCodeOf } from "../../libs/rpc/code-names.js";
import { Secret, secretOrUndefined } from "../../libs/secret/secret.js";
import { CallError } from "./call-error.js";
import type { BuildState, ImageEventBody, ImageSpec, LogEntry, LogStreamName, SourceLocation, StoredBuild } from "./domain.js";

/**
 * Wire → domain: what the resolver's handlers and adapters receive, in the
 * resolver's own types. Secret values are wrapped here, as they arrive,
 * and RPC errors become `CallError`s.
 */

/**
 * An RPC error as the flow sees it: a `CallError` with the status's code
 * and message word for word, whether the other end went away without a
 * status (an HTTP/2 stream reset), and its `retry-after` hint. A
 * `CallError` of ours that a client wrapped on its way through (an abort
 * reason, a failed request stream) comes back as itself, as a relayed
 * `ConnectError` did. Anything else is returned as it is.
 */
export function errorFromWire(err: unknown): unknown {
  if (!(err instanceof ConnectError)) return err;
  if (err.cause instanceof CallError) return err.cause;
  const facts = { connectionLost: isStreamReset(err), retryAfterSecs: retryAfterSecsOf(err.metadata) };
  return new CallError(errorCodeOf(err.code), err.rawMessage, facts, { cause: err });
}

/** A call to another service, its RPC error turned into a `CallError`. */
export async function callFromWire<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw errorFromWire(err);
  }
}

/** A streamed answer of another service, its RPC error turned into a `CallError`. */
export async function* streamFromWire<T>(stream: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (err) {
    throw errorFromWire(err);
  }
}

/**
 * A handler's signal as the flow sees it: aborted with the same reason,
 * except that an RPC status (the caller's deadline, its reset stream)
 * arrives as a `CallError`, so a build stopped by it records that code
 * and message.
 */
export function signalFromWire(signal: AbortSignal): AbortSignal {
  const domain = new AbortController();
  const abort = (): void => domain.abort(errorFromWire(signal.reason));
  if (signal.aborted) abort();
  else signal.addEventListener("abort", abort, { once: true });
  return domain.signal;
}

/** An HTTP/2 stream reset (RST_STREAM CANCEL) rather than a status the other end sent. */
function isStreamReset(err: ConnectError): boolean {
  return err.code === Code.Canceled && err.rawMessage.startsWith("http/2 stream closed with error code");
}

/** The `retry-after` trailer in whole seconds, or undefined when there is none. */
function retryAfterSecsOf(metadata: Headers): number | undefined {
  const value = metadata.get("retry-after");
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  const secs = Number(value);
  return secs > 0 ? secs : undefined;
}

/** A request's spec. */
export function imageSpecFromWire(spec: BuildSpec): ImageSpec {
  return {
    appId: spec.appId,
    source: spec.source === undefined ? undefined : sourceFromWire(spec.source),
    containerfile: spec.containerfile,
    args: spec.args.map((a) => ({ name: a.name, value: a.secret ? new Secret(a.value) : a.value })),
    target: spec.target,
    platform: spec.platform,
    requester: spec.requester,
  };
}

/** A git source, its credentials wrapped. */
export function sourceFromWire(s: GitSource): SourceLocation {
  const c = s.credentials;
  return {
    repository: s.repository,
    ref: s.ref,
    dir: s.dir,
    authName: s.authName,
    credentials: c === undefined ? undefined : { username: c.username, password: secretOrUndefined(c.password), privateKey: secretOrUndefined(c.privateKey) },
  };
}

const streamNames: Record<LogStream, LogStreamName> = {
  [LogStream.UNSPECIFIED]: "unspecified",
  [LogStream.STDOUT]: "stdout",
  [LogStream.STDERR]: "stderr",
  [LogStream.SYSTEM]: "system",
};

/** A stored or relayed log line. */
export function logEntryFromWire(l: LogLine): LogEntry {
  return { seq: l.seq, stream: streamNames[l.stream] ?? "unspecified", text: l.text, time: l.time === undefined ? undefined : timestampDate(l.time) };
}

const stateNames: Record<BuildStatus, BuildState> = {
  [BuildStatus.UNSPECIFIED]: "unspecified",
  [BuildStatus.QUEUED]: "queued",
  [BuildStatus.RUNNING]: "running",
  [BuildStatus.PUSHING]: "pushing",
  [BuildStatus.SUCCEEDED]: "succeeded",
  [BuildStatus.FAILED]: "failed",
  [BuildStatus.CANCELED]: "canceled",
  [BuildStatus.ABANDONED]: "abandoned",
};

/** A build's status. */
export function buildStateFromWire(s: BuildStatus): BuildState {
  return stateNames[s] ?? "unspecified";
}

/** A stored build, as far as the flow follows it. */
export function storedBuildFromWire(b: Build): StoredBuild {
  return {
    id: b.id,
    status: buildStateFromWire(b.status),
    mode: b.mode,
    builderNode: b.builderNode,
    digest: b.digest,
    errorCode: b.errorCode,
    errorMessage: b.errorMessage,
  };
}

/** What a builder event says, or undefined for an event without a body. */
export function eventBodyFromWire(e: BuildEvent["event"]): ImageEventBody | undefined {
  switch (e.case) {
    case "queued":
      return { type: "queued", position: e.value.position };
    case "started": {
      const i = e.value.image;
      return { type: "started", image: i === undefined ? undefined : { key: i.key, name: i.name, reference: i.reference }, mode: e.value.mode, builderNode: e.value.builderNode, commit: e.value.commit };
    }
    case "log":
      return { type: "log", line: logEntryFromWire(e.value) };
    case "progress":
      return { type: "progress", step: e.value.step, totalSteps: e.value.totalSteps, message: e.value.message, bytes: e.value.bytes };
    case "pushed":
      return { type: "pushed", reference: e.value.reference, digest: e.value.digest };
    case "ready":
      return { type: "ready", image: e.value.image, digest: e.value.digest, cached: e.value.cached };
    case "failed":
      return { type: "failed", code: e.value.code, message: e.value.message, logTail: [...e.value.logTail] };
    default:
      return undefined;
  }
}
