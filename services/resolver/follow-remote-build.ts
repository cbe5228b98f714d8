import { setTimeout as sleep } from "node:timers/promises";
import { errorCodeFromName } from "../../libs/errors/domain-error.js";
import type { BuildFlight } from "./build-flight.js";
import { imageEvent, type BuildState, type ImageSpec, type ResolvedImage } from "./domain.js";
import { BuildFailedError, FollowCanceledError, NoRunningBuildError } from "./flow-errors.js";
import type { BuildStorePort } from "./ports.js";

const liveStates: ReadonlySet<BuildState> = new Set<BuildState>(["queued", "running", "pushing"]);
const pollMs = 200;

/** States of a followed build that say nothing about the image: its callers left, or its process died. */
const endedWithoutOutcome: ReadonlySet<BuildState> = new Set<BuildState>(["canceled", "abandoned"]);

/** What following another process's build needs. */
export interface FollowRemoteDeps {
  readonly builds: Pick<BuildStorePort, "latest" | "get" | "followLogs">;
  /** Resolves the spec again: the image may exist by now. */
  resolve(spec: ImageSpec, signal: AbortSignal): Promise<ResolvedImage>;
  readonly leaseTtlMs: number;
}

/**
 * Follows a build that another process runs for the same image key (it
 * holds the metadata lease): relays that build's stored log lines as they
 * are appended, then its outcome. This is how identical requests reaching
 * different replicas still cause one build. Resolves `"ended"` once the
 * flight is finished, or `"retry"` when the followed build was canceled or
 * abandoned while this caller still wants the image: the caller then tries
 * to take the lease and build it itself.
 */
export async function followRemoteBuild(
  deps: FollowRemoteDeps,
  spec: ImageSpec,
  resolved: ResolvedImage,
  flight: BuildFlight,
): Promise<"ended" | "retry"> {
  const { builds } = deps;
  const signal = flight.signal;
  const giveUpAt = Date.now() + 2 * deps.leaseTtlMs;

  while (!signal.aborted) {
    const build = await builds.latest(resolved.image.key, signal);
    if (build && liveStates.has(build.status)) {
      flight.emit(imageEvent(build.id, { type: "started", image: resolved.image, mode: build.mode, builderNode: build.builderNode, commit: resolved.commit }));
      const tail: string[] = [];
      for await (const lines of builds.followLogs(build.id, signal)) {
        for (const line of lines) {
          tail.push(line.text);
          if (tail.length > 20) tail.shift();
          flight.emit(imageEvent(build.id, { type: "log", line }));
        }
      }
      const done = await builds.get(build.id, signal);
      if (!signal.aborted && done !== undefined && endedWithoutOutcome.has(done.status)) {
        const line = { seq: 0n, stream: "system" as const, text: `build ${build.id} in another process ended ${done.status}; taking it over`, time: undefined };
        flight.emit(imageEvent(build.id, { type: "log", line }));
        return "retry";
      }
      if (done?.status === "succeeded") {
        flight.emit(imageEvent(build.id, { type: "ready", image: resolved.image.reference, digest: done.digest, cached: false }));
        flight.finish();
      } else {
        const code = done?.errorCode || "aborted";
        const message = done?.errorMessage || `build ${build.id} ended as ${done?.status ?? "unspecified"}`;
        flight.emit(imageEvent(build.id, { type: "failed", code, message, logTail: tail }));
        flight.finish(new BuildFailedError(build.id, errorCodeFromName(code), message));
      }
      return "ended";
    }
    const again = await deps.resolve(spec, signal);
    if (again.exists) {
      flight.emit(imageEvent("", { type: "ready", image: again.image.reference, digest: again.digest, cached: true }));
      flight.finish();
      return "ended";
    }
    if (build && endedWithoutOutcome.has(build.status)) {
      // Its holder is letting go of the lease (or its lease lapses): try to take it.
      await sleep(pollMs, undefined, { signal }).catch(() => undefined);
      if (!signal.aborted) return "retry";
      continue;
    }
    if (Date.now() > giveUpAt) {
      const error = new NoRunningBuildError(resolved.image.reference);
      flight.emit(imageEvent("", { type: "failed", code: "unavailable", message: error.message, logTail: [] }));
      flight.finish(error);
      return "ended";
    }
    await sleep(pollMs, undefined, { signal }).catch(() => undefined);
  }
  flight.finish(new FollowCanceledError());
  return "ended";
}
