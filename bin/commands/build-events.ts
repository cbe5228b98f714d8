import { timestampMs } from "@bufbuild/protobuf/wkt";
import { LogStream, type BuildEvent } from "../../libs/gen/buildplane/v1/common_pb.js";

/** One `--json` output line. The last one is always `ready` or `failed`. */
export type BuildEventJson =
  | { type: "queued"; buildId: string; position: number }
  | { type: "started"; buildId: string; image: string; mode: string; node?: string; commit: string }
  | { type: "log"; buildId: string; seq: number; stream: string; text: string; time?: string }
  | { type: "progress"; buildId: string; step: number; totalSteps: number; message: string }
  | { type: "pushed"; buildId: string; reference: string; digest: string }
  | { type: "ready"; image: string; digest: string; cached: boolean; buildId: string }
  | { type: "failed"; code: string; message: string; buildId: string; logTail?: string[] };

const streamNames: Record<LogStream, string> = {
  [LogStream.UNSPECIFIED]: "stdout",
  [LogStream.STDOUT]: "stdout",
  [LogStream.STDERR]: "stderr",
  [LogStream.SYSTEM]: "system",
};

/** Converts an event to its `--json` line; undefined for an empty event. */
export function buildEventToJson(e: BuildEvent): BuildEventJson | undefined {
  const buildId = e.buildId;
  switch (e.event.case) {
    case "queued":
      return { type: "queued", buildId, position: e.event.value.position };
    case "started": {
      const v = e.event.value;
      return {
        type: "started",
        buildId,
        image: v.image?.reference ?? "",
        mode: v.mode,
        ...(v.builderNode ? { node: v.builderNode } : {}),
        commit: v.commit,
      };
    }
    case "log": {
      const v = e.event.value;
      return {
        type: "log",
        buildId,
        seq: Number(v.seq),
        stream: streamNames[v.stream],
        text: v.text,
        ...(v.time ? { time: new Date(timestampMs(v.time)).toISOString() } : {}),
      };
    }
    case "progress":
      return { type: "progress", buildId, step: e.event.value.step, totalSteps: e.event.value.totalSteps, message: e.event.value.message };
    case "pushed":
      return { type: "pushed", buildId, reference: e.event.value.reference, digest: e.event.value.digest };
    case "ready":
      return { type: "ready", image: e.event.value.image, digest: e.event.value.digest, cached: e.event.value.cached, buildId };
    case "failed":
      return { type: "failed", code: e.event.value.code, message: e.event.value.message, buildId, logTail: [...e.event.value.logTail] };
    default:
      return undefined;
  }
}

/** A plain-text line for an event, as printed when stdout is not a terminal. */
export function buildEventToText(e: BuildEventJson): string {
  switch (e.type) {
    case "queued":
      return `queued: position ${e.position}`;
    case "started":
      return `building ${e.image}${e.node ? ` on ${e.node}` : ""}${e.commit ? ` from ${e.commit.slice(0, 12)}` : ""} (build ${e.buildId})`;
    case "log":
      return e.text;
    case "progress":
      return `step ${e.step}/${e.totalSteps}: ${e.message}`;
    case "pushed":
      return `pushed ${e.reference}@${e.digest}`;
    case "ready":
      return e.image;
    case "failed":
      return `build failed (${e.code}): ${e.message}`;
  }
}
