import { setTimeout as sleep } from "node:timers/promises";
import { domainErrorOf, errorCodeName, isDomainError, type ErrorCode } from "../../libs/errors/domain-error.js";
import type { RegistryTarget } from "../../libs/registry/registry-target.js";
import { isServerShutdown } from "../../libs/rpc/server-shutdown.js";
import { createLogScrubber } from "../../libs/secret/scrub.js";
import type { BuildRecord } from "./build-record.js";
import { CallError, isConnectionLost } from "./call-error.js";
import { imageEvent, type BuildState, type ImageEvent, type ImageEventBody, type ImageRef, type ImageSpec } from "./domain.js";
import { BuildFailedError, BuildPassesTimeoutError } from "./flow-errors.js";
import { secretsOfPlan } from "./plan-secrets.js";
import type { BuilderPort, SourcePort } from "./ports.js";

/** The services a build run talks to. */
export interface RunBuildPorts {
  readonly source: SourcePort;
  readonly builder: BuilderPort;
}

/** A build about to run: the spec, and what resolving it found. */
export interface BuildPlan {
  readonly buildId: string;
  readonly spec: ImageSpec;
  readonly image: ImageRef;
  readonly commit: string;
  readonly treeHash: string;
  /** Containerfile path relative to the build folder. */
  readonly containerfile: string;
  readonly registry: RegistryTarget | undefined;
  readonly timeoutSecs: number;
  /** The context when it is not the source service's (an upload spooled here). */
  readonly context?: ((signal: AbortSignal) => AsyncIterable<Uint8Array>) | undefined;
  /** Further secret values to scrub from logs (the config's tokens and passwords). */
  readonly knownSecrets?: readonly string[];
}

/** How a run ended: the last event for its callers, and the error of a failure, with the same code and message. */
export interface RunOutcome {
  readonly final: ImageEvent;
  readonly error?: BuildFailedError;
}

const tailSize = 20;

/**
 * Passes a build may take: a builder that ends one with `aborted` (a
 * conflict on its engine, such as Docker losing a cached image another
 * client removed) is asked again, with the context streamed anew, after a
 * pause that doubles from `firstRetryDelayMs` (so a burst of removals, such
 * as a garbage collection's, can end first: 3.75 s in all).
 */
const maxAttempts = 5;
const firstRetryDelayMs = 250;

/**
 * Runs one build: streams the context from the source service into the
 * builder, relays every builder event through `emit`, and writes the log
 * lines and status changes to `record`, then its outcome (ready only once
 * the record says succeeded). Log lines, the log tail and error messages
 * have every known secret value replaced by `***` before they are relayed
 * or stored. `signal` stops the build: when its reason is a domain error
 * other than `canceled` (the lease was lost, the record could not be
 * written) the build fails with that error, else it was canceled. A
 * builder failure with code `aborted` runs the build again, up to
 * `maxAttempts` passes, with a system log line saying why and when; the
 * passes and pauses together stay within the build's timeout, which the
 * builder applies to each pass alone. A failure is returned as a `Failed`
 * event together with its error.
 */
export async function runBuild(
  ports: RunBuildPorts,
  plan: BuildPlan,
  record: BuildRecord,
  emit: (e: ImageEvent) => void,
  outerSignal: AbortSignal,
): Promise<RunOutcome> {
  // Stops the build when its timeout is spent over several passes (see `deadlineAfterRetry`).
  const overdue = new AbortController();
  const signal = AbortSignal.any([outerSignal, overdue.signal]);
  let attempt = 1;
  let overdueTimer: NodeJS.Timeout | undefined;
  const startedAt = Date.now();
  /** From the first pass run again on, the timeout counts from the first pass's start (0: the builder's default, kept by the builder alone). */
  const deadlineAfterRetry = (): void => {
    if (overdueTimer !== undefined || plan.timeoutSecs <= 0) return;
    overdueTimer = setTimeout(() => overdue.abort(new BuildPassesTimeoutError(plan.buildId, plan.timeoutSecs, attempt)), Math.max(0, startedAt + plan.timeoutSecs * 1000 - Date.now()));
  };
  const event = (body: ImageEventBody): ImageEvent => imageEvent(plan.buildId, body);
  const { scrub } = createLogScrubber(secretsOfPlan(plan));
  const tail: string[] = [];
  let status: BuildState = "queued";
  let digest = "";

  const setStatus = (next: BuildState, extra: { digest?: string; builderNode?: string } = {}): void => {
    if (status === next) {
      // A delegate builder names its node in a second started event: record it.
      if (extra.builderNode !== undefined || extra.digest !== undefined) record.update(extra);
      return;
    }
    status = next;
    record.update({ status: next, ...extra });
  };

  const relay = (e: ImageEventBody): void => {
    switch (e.type) {
      case "started":
        setStatus("running", e.builderNode ? { builderNode: e.builderNode } : {});
        emit(event({ ...e, image: plan.image, commit: plan.commit }));
        break;
      case "log": {
        const line = { ...e.line, text: scrub(e.line.text) };
        record.log(line);
        tail.push(line.text);
        if (tail.length > tailSize) tail.shift();
        emit(event({ type: "log", line }));
        break;
      }
      case "pushed":
        digest = e.digest;
        setStatus("pushing");
        emit(event(e));
        break;
      case "ready":
        digest = e.digest || digest;
        break;
      default:
        emit(event(e));
    }
  };

  try {
    for (; ; attempt++) {
      try {
        await attemptBuild(ports, plan, relay, signal);
        break;
      } catch (err) {
        const failure = domainErrorOf(err);
        if (signal.aborted || failure.code !== "aborted" || attempt === maxAttempts) throw err;
        const delayMs = firstRetryDelayMs * 2 ** (attempt - 1);
        relay({ type: "log", line: { seq: 0n, stream: "system", text: `attempt ${attempt} of ${maxAttempts} was aborted (${failure.message}): building again in ${delayMs} ms`, time: new Date() } });
        deadlineAfterRetry();
        // A stop during the pause (the timeout spent, too) ends the build as a stop during the pass would.
        await sleep(delayMs, undefined, { signal }).catch(() => Promise.reject(err));
      }
    }
    if (signal.aborted) throw signal.reason;
    await record.finish({ status: "succeeded", digest, image: plan.image.reference });
    return { final: event({ type: "ready", image: plan.image.reference, digest, cached: false }) };
  } catch (err) {
    const { code, message } = classify(plan.buildId, err, signal, scrub);
    await record.finish({ status: code === "canceled" ? "canceled" : "failed", errorCode: errorCodeName(code), errorMessage: message }).catch(() => undefined);
    const final = event({ type: "failed", code: errorCodeName(code), message, logTail: [...tail] });
    // A hint such as a full queue's `retry-after` reaches the caller too.
    return { final, error: new BuildFailedError(plan.buildId, code, message, err instanceof CallError ? err.retryAfterSecs : undefined) };
  } finally {
    clearTimeout(overdueTimer);
  }
}

/**
 * One pass of the build through the builder, its events relayed as they
 * come. The context's source call ends with the pass: Connect's stream
 * iterator has no return(), so a builder that stops reading early (a failed
 * build) would otherwise leave the source side's git reader and mirror
 * lease held.
 */
async function attemptBuild(ports: RunBuildPorts, plan: BuildPlan, relay: (e: ImageEventBody) => void, signal: AbortSignal): Promise<void> {
  const contextCall = new AbortController();
  try {
    const order = { buildId: plan.buildId, spec: plan.spec, image: plan.image, commit: plan.commit, containerfile: plan.containerfile, registry: plan.registry, timeoutSecs: plan.timeoutSecs };
    const context = contextOf(ports, plan, AbortSignal.any([signal, contextCall.signal]));
    for await (const e of ports.builder.build(order, context, signal)) relay(e);
  } finally {
    contextCall.abort();
  }
}

/**
 * Why a run ended: a stop with a reason (lease lost, record unwritable)
 * wins over whatever error the stop caused; a stop without one is a
 * cancel; else the builder's error, scrubbed.
 */
function classify(buildId: string, err: unknown, signal: AbortSignal, scrub: (s: string) => string): { code: ErrorCode; message: string } {
  if (isServerShutdown(signal.reason)) return { code: "canceled", message: `build ${buildId} was canceled: ${signal.reason.message}` };
  if (signal.aborted && isDomainError(signal.reason) && signal.reason.code !== "canceled") {
    return { code: signal.reason.code, message: scrub(signal.reason.message) };
  }
  const error = domainErrorOf(err);
  if (error.code === "canceled" && !signal.aborted && isConnectionLost(error)) {
    // Nobody here asked to stop and the builder sent no status: its end of the
    // stream went away (its process died, the connection dropped). A build the
    // builder canceled itself (CancelBuild) ends with its own status and stays canceled.
    return { code: "unavailable", message: `build ${buildId}: the connection to the builder was lost (${scrub(error.message)}): the builder may have stopped; retry the build` };
  }
  if (error.code === "canceled" || signal.aborted) {
    return { code: "canceled", message: error.code === "canceled" ? scrub(error.message) : `build ${buildId} was canceled` };
  }
  return { code: error.code, message: scrub(error.message) };
}

/** The build's context: the upload spooled here, else the source service's checkout of the commit. */
async function* contextOf(ports: RunBuildPorts, plan: BuildPlan, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  if (plan.context) yield* plan.context(signal);
  else yield* ports.source.streamContext(plan.spec.source, plan.commit, plan.containerfile, signal);
}
