import { setTimeout as sleep } from "node:timers/promises";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { BuildEventSchema, BuildStatus, LogStream, type BuildEvent, type BuildSpec } from "../../libs/gen/buildplane/v1/common_pb.js";
import { codeFromName } from "../../libs/rpc/code-names.js";
import type { BuildFlight } from "./build-flight.js";
import type { EnsureImageDeps, ResolvedImage } from "./ensure-image.js";

const liveStatuses = new Set([BuildStatus.QUEUED, BuildStatus.RUNNING, BuildStatus.PUSHING]);
const pollMs = 200;

/** Statuses of a followed build that say nothing about the image: its callers left, or its process died. */
const endedWithoutOutcome = new Set([BuildStatus.CANCELED, BuildStatus.ABANDONED]);

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
  deps: EnsureImageDeps,
  spec: BuildSpec,
  resolved: ResolvedImage,
  flight: BuildFlight,
): Promise<"ended" | "retry"> {
  const { metadata } = deps.clients;
  const signal = flight.signal;
  const event = (buildId: string, e: MessageInitShape<typeof BuildEventSchema>["event"]): BuildEvent => create(BuildEventSchema, { buildId, time: timestampNow(), event: e });
  const giveUpAt = Date.now() + 2 * deps.leaseTtlMs;

  while (!signal.aborted) {
    const { builds } = await metadata.listBuilds({ imageKey: resolved.image.key, pageSize: 1 }, { signal });
    const build = builds[0];
    if (build && liveStatuses.has(build.status)) {
      flight.emit(event(build.id, { case: "started", value: { image: resolved.image, mode: build.mode, builderNode: build.builderNode, commit: resolved.commit } }));
      const tail: string[] = [];
      for await (const res of metadata.streamLogs({ buildId: build.id, fromSeq: 0n, follow: true }, { signal })) {
        for (const line of res.lines) {
          tail.push(line.text);
          if (tail.length > 20) tail.shift();
          flight.emit(event(build.id, { case: "log", value: line }));
        }
      }
      const { build: done } = await metadata.getBuild({ id: build.id }, { signal });
      if (!signal.aborted && done !== undefined && endedWithoutOutcome.has(done.status)) {
        const how = BuildStatus[done.status].toLowerCase();
        flight.emit(event(build.id, { case: "log", value: { stream: LogStream.SYSTEM, text: `build ${build.id} in another process ended ${how}; taking it over` } }));
        return "retry";
      }
      if (done?.status === BuildStatus.SUCCEEDED) {
        flight.emit(event(build.id, { case: "ready", value: { image: resolved.image.reference, digest: done.digest, cached: false } }));
        flight.finish();
      } else {
        const code = done?.errorCode || "aborted";
        const message = done?.errorMessage || `build ${build.id} ended as ${BuildStatus[done?.status ?? BuildStatus.UNSPECIFIED].toLowerCase()}`;
        flight.emit(event(build.id, { case: "failed", value: { code, message, logTail: tail } }));
        flight.finish(new ConnectError(message, codeFromName(code)));
      }
      return "ended";
    }
    const again = await deps.resolve(spec, signal);
    if (again.exists) {
      flight.emit(event("", { case: "ready", value: { image: again.image.reference, digest: again.digest, cached: true } }));
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
      const message = `another process holds the build lease for ${resolved.image.reference} but records no running build: retry later`;
      flight.emit(event("", { case: "failed", value: { code: "unavailable", message, logTail: [] } }));
      flight.finish(new ConnectError(message, Code.Unavailable));
      return "ended";
    }
    await sleep(pollMs, undefined, { signal }).catch(() => undefined);
  }
  flight.finish(new ConnectError("build canceled while following another process's build", Code.Canceled));
  return "ended";
}
