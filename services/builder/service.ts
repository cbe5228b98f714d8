import { Readable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { BuilderService, type BuildRequest, type BuildResponse } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { BuildEventSchema, LogStream, type BuildEvent } from "../../libs/gen/buildplane/v1/common_pb.js";
import { createAsyncQueue } from "../../libs/stream/async-queue.js";
import { buildJobFromHeader, InvalidBuildHeaderError } from "./build-job.js";
import type { BuildLifecycle, LifecycleEvent } from "./build-lifecycle.js";
import type { BuildSlots } from "./build-slots.js";
import type { ModeCapabilities } from "./builder-mode.js";
import type { ImageBuilder } from "./image-builder.js";

export { BuildCanceledError, BuildTimeoutError } from "./build-errors.js";

export interface BuilderServiceDeps {
  /** The configured mode. */
  readonly builder: ImageBuilder;
  /** The one lifecycle every build goes through (shared with the OpenRun endpoint). */
  readonly lifecycle: BuildLifecycle;
  readonly slots: BuildSlots;
  /** `[builder] build_timeout_secs`, used when a request sets none. */
  readonly defaultTimeoutSecs: number;
  /** What the mode can do, reported by `GetStatus`. */
  readonly capabilities: ModeCapabilities;
}

const logStreams = { stdout: LogStream.STDOUT, stderr: LogStream.STDERR, system: LogStream.SYSTEM } as const;

/**
 * Creates the builder service: `Build` reads a header and the context from
 * the request stream, waits for a slot, runs the configured mode and streams
 * its events. Every running build can be stopped by `CancelBuild`, by the
 * caller going away, or by its timeout.
 */
export function createBuilderService(deps: BuilderServiceDeps): ServiceImpl<typeof BuilderService> {
  return {
    async *build(requests, ctx) {
      const it = requests[Symbol.asyncIterator]();
      const first = await it.next();
      const header = first.done ? undefined : first.value.message;
      if (header?.case !== "header") throw new InvalidBuildHeaderError("the first message of a Build stream must be a header");
      const context = Readable.from(contextChunks(it), { objectMode: false });
      const job = buildJobFromHeader(header.value, context, { timeoutSecs: deps.defaultTimeoutSecs });

      let seq = 0n;
      const events = createAsyncQueue<BuildResponse>();
      const emit = (event: BuildEvent["event"]): void =>
        events.push({ $typeName: "buildplane.v1.BuildResponse", event: create(BuildEventSchema, { buildId: job.buildId, time: timestampNow(), event }) });
      const onEvent = (p: LifecycleEvent): void => {
        switch (p.type) {
          case "queued":
            emit({ case: "queued", value: { $typeName: "buildplane.v1.Queued", position: p.position } });
            break;
          case "started":
            emit({ case: "started", value: { $typeName: "buildplane.v1.Started", image: header.value.image, mode: deps.builder.mode, builderNode: "", commit: "" } });
            break;
          case "log":
            emit({ case: "log", value: { $typeName: "buildplane.v1.LogLine", seq: ++seq, stream: logStreams[p.stream], text: p.text, time: timestampNow() } });
            break;
          case "progress":
            emit({ case: "progress", value: { $typeName: "buildplane.v1.Progress", step: p.step, totalSteps: p.totalSteps, message: p.message, bytes: 0n } });
            break;
          case "pushed":
            emit({ case: "pushed", value: { $typeName: "buildplane.v1.Pushed", reference: p.reference, digest: p.digest } });
            break;
          case "node":
            emit({ case: "started", value: { $typeName: "buildplane.v1.Started", mode: deps.builder.mode, builderNode: p.node, commit: "" } });
            break;
        }
      };
      const stop = new AbortController();
      deps.lifecycle.run(job, onEvent, AbortSignal.any([ctx.signal, stop.signal])).then(
        (outcome) => {
          emit({ case: "ready", value: { $typeName: "buildplane.v1.Ready", image: outcome.reference, digest: outcome.digest, cached: false } });
          events.close();
        },
        (err: unknown) => events.fail(err),
      );
      try {
        yield* events;
      } finally {
        // The reader went away before the end: the build stops with it.
        stop.abort();
      }
    },

    async cancelBuild(req) {
      return { canceled: deps.lifecycle.cancel(req.buildId) };
    },

    async hasImage(req, ctx) {
      return deps.builder.hasImage(req.reference, ctx.signal);
    },

    async getStatus(_req, ctx) {
      const status = await deps.builder.status(ctx.signal);
      return {
        mode: deps.builder.mode,
        capacity: deps.slots.capacity,
        running: deps.slots.running,
        queued: deps.slots.queued,
        healthy: status.healthy,
        engine: status.engine,
        version: status.version,
        capabilities: { ...deps.capabilities },
        nodes: status.nodes.map((n) => ({
          url: n.url,
          healthy: n.healthy,
          capacity: n.capacity,
          running: n.running,
          queued: n.queued,
          reason: n.reason,
          inFlight: n.inFlight,
          plaintext: n.plaintext ?? false,
        })),
      };
    },
  };
}

async function* contextChunks(it: AsyncIterator<BuildRequest>): AsyncGenerator<Uint8Array> {
  for (;;) {
    const next = await it.next();
    if (next.done) return;
    const m = next.value.message;
    if (m.case !== "chunk") throw new InvalidBuildHeaderError("a Build stream carries one header, then only context chunks");
    if (m.value.length > 0) yield m.value;
  }
}
