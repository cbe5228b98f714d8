import { Readable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { BuilderService, type BuildRequest, type BuildResponse } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { BuildEventSchema, LogStream, type BuildEvent } from "../../libs/gen/buildplane/v1/common_pb.js";
import { DomainError } from "../../libs/errors/domain-error.js";
import { createAsyncQueue } from "../../libs/stream/async-queue.js";
import { buildJobFromHeader, InvalidBuildHeaderError } from "./build-job.js";
import type { BuildSlots } from "./build-slots.js";
import { guardTar } from "./openrun/tar-guard.js";
import type { BuildProgress, ImageBuilder } from "./image-builder.js";

/** A build that ran past its time limit. */
export class BuildTimeoutError extends DomainError {
  constructor(readonly buildId: string, readonly timeoutSecs: number) {
    super("deadlineExceeded", `build ${buildId} timed out after ${timeoutSecs}s (builder.build_timeout_secs) and was stopped`);
  }
}

/** A build stopped by `CancelBuild` or by its caller going away. */
export class BuildCanceledError extends DomainError {
  constructor(readonly buildId: string) {
    super("canceled", `build ${buildId} was canceled`);
  }
}

/** What the builder service needs. */
/** One builder node of a delegate pool, as `GetStatus` reports it. */
export interface BuilderNodeView {
  readonly url: string;
  readonly healthy: boolean;
  readonly capacity: number;
  readonly running: number;
  readonly queued: number;
  readonly reason: string;
  readonly inFlight: number;
  /** Reached over plain HTTP across the network. */
  readonly plaintext?: boolean;
}

export interface BuilderServiceDeps {
  /** The configured mode. */
  readonly builder: ImageBuilder;
  readonly slots: BuildSlots;
  /** `[builder] build_timeout_secs`, used when a request sets none. */
  readonly defaultTimeoutSecs: number;
  /** Local engine lookup, when this builder has an engine. */
  hasImage?(reference: string, signal: AbortSignal): Promise<{ exists: boolean; digest: string }>;
  /** Delegate mode: the pool's nodes as last probed. */
  nodes?(): readonly BuilderNodeView[];
  /** Engine name and version, and whether it answers. */
  engineStatus?(signal: AbortSignal): Promise<{ engine: string; version: string; healthy: boolean }>;
}

const logStreams = { stdout: LogStream.STDOUT, stderr: LogStream.STDERR, system: LogStream.SYSTEM } as const;

/**
 * Creates the builder service: `Build` reads a header and the context from
 * the request stream, waits for a slot, runs the configured mode and streams
 * its events. Every running build can be stopped by `CancelBuild`, by the
 * caller going away, or by its timeout.
 */
export function createBuilderService(deps: BuilderServiceDeps): ServiceImpl<typeof BuilderService> {
  const running = new Map<string, AbortController>();

  return {
    async *build(requests, ctx) {
      const it = requests[Symbol.asyncIterator]();
      const first = await it.next();
      const header = first.done ? undefined : first.value.message;
      if (header?.case !== "header") throw new InvalidBuildHeaderError("the first message of a Build stream must be a header");
      // Every context is checked entry by entry on its way to the engine: no
      // `..`, absolute names, links or devices escaping, bounded size and count.
      const context = guardTar(Readable.from(contextChunks(it), { objectMode: false }));
      const job = buildJobFromHeader(header.value, context, { timeoutSecs: deps.defaultTimeoutSecs });
      if (running.has(job.buildId)) throw new DomainError("alreadyExists", `build ${job.buildId} is already running here`);

      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(new BuildTimeoutError(job.buildId, job.timeoutSecs)), job.timeoutSecs * 1000);
      const onCallerGone = (): void => stop.abort(new BuildCanceledError(job.buildId));
      // A context refused on its way (unsafe entry, upload cut) fails the build with that reason.
      context.once("error", (err) => stop.abort(err));
      ctx.signal.addEventListener("abort", onCallerGone, { once: true });
      running.set(job.buildId, stop);

      let seq = 0n;
      const events = createAsyncQueue<BuildResponse>();
      const emit = (event: BuildEvent["event"]): void =>
        events.push({ $typeName: "buildplane.v1.BuildResponse", event: create(BuildEventSchema, { buildId: job.buildId, time: timestampNow(), event }) });
      const onProgress = (p: BuildProgress): void => {
        switch (p.type) {
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

      const run = async (): Promise<void> => {
        const slot = await deps.slots.acquire(stop.signal, (position) => emit({ case: "queued", value: { $typeName: "buildplane.v1.Queued", position } }));
        try {
          emit({ case: "started", value: { $typeName: "buildplane.v1.Started", image: header.value.image, mode: deps.builder.mode, builderNode: "", commit: "" } });
          const outcome = await deps.builder.build(job, onProgress, stop.signal);
          emit({ case: "ready", value: { $typeName: "buildplane.v1.Ready", image: outcome.reference, digest: outcome.digest, cached: false } });
        } finally {
          slot.release();
        }
      };
      run().then(
        () => events.close(),
        (err: unknown) => events.fail(stop.signal.aborted && stop.signal.reason instanceof DomainError ? stop.signal.reason : err),
      );
      try {
        yield* events;
      } finally {
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", onCallerGone);
        running.delete(job.buildId);
        context.destroy();
      }
    },

    async cancelBuild(req) {
      const stop = running.get(req.buildId);
      if (!stop) return { canceled: false };
      stop.abort(new BuildCanceledError(req.buildId));
      return { canceled: true };
    },

    async hasImage(req, ctx) {
      if (!deps.hasImage) throw new DomainError("failedPrecondition", `builder mode ${deps.builder.mode} has no local engine to look up ${req.reference}`);
      return deps.hasImage(req.reference, ctx.signal);
    },

    async getStatus(_req, ctx) {
      const nodes = deps.nodes?.() ?? [];
      const engine = deps.engineStatus
        ? await deps.engineStatus(ctx.signal)
        : { engine: "", version: "", healthy: deps.nodes === undefined || nodes.some((n) => n.healthy) };
      return {
        mode: deps.builder.mode,
        capacity: deps.slots.capacity,
        running: deps.slots.running,
        queued: deps.slots.queued,
        healthy: engine.healthy,
        engine: engine.engine,
        version: engine.version,
        nodes: nodes.map((n) => ({
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
