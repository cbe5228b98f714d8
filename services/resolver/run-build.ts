import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { BuildRequest, BuilderService } from "../../libs/gen/buildplane/v1/builder_pb.js";
import {
  BuildEventSchema,
  BuildStatus,
  type BuildEvent,
  type BuildSpec,
  type ImageRef,
  type Registry,
} from "../../libs/gen/buildplane/v1/common_pb.js";
import type { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import type { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { buildHeader } from "../../libs/build/build-header.js";
import { codeName } from "../../libs/rpc/code-names.js";
import { isServerShutdown } from "../../libs/rpc/server-shutdown.js";
import { createLogScrubber } from "../../libs/secret/scrub.js";
import type { BuildRecord } from "./build-record.js";
import { secretsOfPlan } from "./plan-secrets.js";

/** The services a build run talks to. */
export interface RunBuildClients {
  readonly source: Client<typeof SourceService>;
  readonly builder: Client<typeof BuilderService>;
  readonly metadata: Client<typeof MetadataService>;
}

/** A build about to run: the spec, and what resolving it found. */
export interface BuildPlan {
  readonly buildId: string;
  readonly spec: BuildSpec;
  readonly image: ImageRef;
  readonly commit: string;
  readonly treeHash: string;
  /** Containerfile path relative to the build folder. */
  readonly containerfile: string;
  readonly registry: Registry | undefined;
  readonly timeoutSecs: number;
  /** The context when it is not the source service's (an upload spooled here). */
  readonly context?: ((signal: AbortSignal) => AsyncIterable<Uint8Array>) | undefined;
  /** Further secret values to scrub from logs (the config's tokens and passwords). */
  readonly knownSecrets?: readonly string[];
}

const tailSize = 20;

/**
 * Runs one build: streams the context from the source service into the
 * builder, relays every builder event through `emit`, and writes the log
 * lines and status changes to `record`, then its outcome (ready only once
 * the record says succeeded). Log lines, the log tail and error messages
 * have every known secret value replaced by `***` before they are relayed
 * or stored. `signal` stops the build: when its reason is a ConnectError
 * (the lease was lost, the record could not be written) the build fails
 * with that error, else it was canceled. A failure is returned as a
 * `Failed` event together with the RPC error.
 */
export async function runBuild(
  clients: RunBuildClients,
  plan: BuildPlan,
  record: BuildRecord,
  emit: (e: BuildEvent) => void,
  signal: AbortSignal,
): Promise<{ final: BuildEvent; error?: ConnectError }> {
  const event = (e: BuildEvent["event"]): BuildEvent => create(BuildEventSchema, { buildId: plan.buildId, time: timestampNow(), event: e });
  const { scrub } = createLogScrubber(secretsOfPlan(plan));
  const tail: string[] = [];
  let status = BuildStatus.QUEUED;
  let digest = "";

  const setStatus = (next: BuildStatus, extra: { digest?: string; builderNode?: string } = {}): void => {
    if (status === next) {
      // A delegate builder names its node in a second started event: record it.
      if (extra.builderNode !== undefined || extra.digest !== undefined) record.update(extra);
      return;
    }
    status = next;
    record.update({ status: next, ...extra });
  };

  // The context's source call ends with the build: Connect's stream iterator
  // has no return(), so a builder that stops reading early (a failed build)
  // would otherwise leave the source side's git reader and mirror lease held.
  const contextCall = new AbortController();
  try {
    const responses = clients.builder.build(requestStream(clients, plan, AbortSignal.any([signal, contextCall.signal])), { signal });
    for await (const res of responses) {
      const e = res.event;
      if (!e) continue;
      switch (e.event.case) {
        case "started":
          setStatus(BuildStatus.RUNNING, e.event.value.builderNode ? { builderNode: e.event.value.builderNode } : {});
          emit(event({ case: "started", value: { ...e.event.value, image: plan.image, commit: plan.commit } }));
          break;
        case "log": {
          const line = { ...e.event.value, text: scrub(e.event.value.text) };
          record.log(line);
          tail.push(line.text);
          if (tail.length > tailSize) tail.shift();
          emit(event({ case: "log", value: line }));
          break;
        }
        case "pushed":
          digest = e.event.value.digest;
          setStatus(BuildStatus.PUSHING);
          emit(event(e.event));
          break;
        case "ready":
          digest = e.event.value.digest || digest;
          break;
        default:
          emit(event(e.event));
      }
    }
    if (signal.aborted) throw signal.reason;
    await record.finish({ status: BuildStatus.SUCCEEDED, digest, image: plan.image.reference });
    return { final: event({ case: "ready", value: { $typeName: "buildplane.v1.Ready", image: plan.image.reference, digest, cached: false } }) };
  } catch (err) {
    const { code, message } = classify(plan.buildId, err, signal, scrub);
    await record
      .finish({ status: code === Code.Canceled ? BuildStatus.CANCELED : BuildStatus.FAILED, errorCode: codeName(code), errorMessage: message })
      .catch(() => undefined);
    const final = event({ case: "failed", value: { $typeName: "buildplane.v1.Failed", code: codeName(code), message, logTail: [...tail] } });
    // Trailers such as a full queue's `retry-after` reach the caller too.
    return { final, error: new ConnectError(message, code, ConnectError.from(err).metadata) };
  } finally {
    contextCall.abort();
  }
}

/**
 * Why a run ended: a stop with a reason (lease lost, record unwritable)
 * wins over whatever error the stop caused; a stop without one is a
 * cancel; else the builder's error, scrubbed.
 */
function classify(buildId: string, err: unknown, signal: AbortSignal, scrub: (s: string) => string): { code: Code; message: string } {
  if (isServerShutdown(signal.reason)) return { code: Code.Canceled, message: `build ${buildId} was canceled: ${signal.reason.message}` };
  if (signal.aborted && signal.reason instanceof ConnectError && signal.reason.code !== Code.Canceled) {
    return { code: signal.reason.code, message: scrub(signal.reason.rawMessage) };
  }
  const error = ConnectError.from(err);
  if (error.code === Code.Canceled && !signal.aborted && isStreamReset(error)) {
    // Nobody here asked to stop and the builder sent no status: its end of the
    // stream went away (its process died, the connection dropped). A build the
    // builder canceled itself (CancelBuild) ends with its own status and stays canceled.
    return { code: Code.Unavailable, message: `build ${buildId}: the connection to the builder was lost (${scrub(error.rawMessage)}): the builder may have stopped; retry the build` };
  }
  if (error.code === Code.Canceled || signal.aborted) {
    return { code: Code.Canceled, message: error.code === Code.Canceled ? scrub(error.rawMessage) : `build ${buildId} was canceled` };
  }
  return { code: error.code, message: scrub(error.rawMessage) };
}

/** An HTTP/2 stream reset (RST_STREAM CANCEL) rather than a status the builder sent. */
function isStreamReset(error: ConnectError): boolean {
  return error.rawMessage.startsWith("http/2 stream closed with error code");
}

async function* requestStream(clients: RunBuildClients, plan: BuildPlan, signal: AbortSignal): AsyncGenerator<BuildRequest> {
  yield { $typeName: "buildplane.v1.BuildRequest", message: { case: "header", value: buildHeader(plan) } };
  if (plan.context) {
    for await (const chunk of plan.context(signal)) {
      if (chunk.length > 0) yield { $typeName: "buildplane.v1.BuildRequest", message: { case: "chunk", value: chunk } };
    }
    return;
  }
  const chunks = clients.source.streamContext({ source: plan.spec.source, commit: plan.commit, containerfile: plan.containerfile }, { signal });
  for await (const res of chunks) {
    if (res.chunk.length > 0) yield { $typeName: "buildplane.v1.BuildRequest", message: { case: "chunk", value: res.chunk } };
  }
}
