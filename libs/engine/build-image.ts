import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { createBuildCgroup, type BuildCgroup } from "./build-cgroup.js";
import { createBuildMessageParser, type BuildLogStream } from "./build-messages.js";
import { EngineOperationCanceledError, EngineRequestError, ImageBuildError, ImageRemovedDuringBuildError, removedDuringBuild } from "./engine-errors.js";
import { classifyEngineError, dial, type Modem } from "./engine-request.js";
import { inBatches } from "./write-batches.js";

/** One image build on the local engine. */
export interface BuildImageOptions {
  /** The build context as an uncompressed tar stream; it is streamed, never buffered (`inBatches` holds at most one turn's pieces). */
  readonly context: Readable;
  readonly tag: string;
  /** Containerfile path inside the context. */
  readonly dockerfile: string;
  /** Values reach the engine in the request's query string over its socket; they are never logged. */
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly target?: string | undefined;
  readonly platform?: string | undefined;
  readonly labels?: Readonly<Record<string, string>>;
  /** Network of `RUN` steps (`host`, `none`…); the engine's default when absent. */
  readonly networkMode?: string | undefined;
}

/** What the engine produced. */
export interface BuildImageResult {
  /** `sha256:…` id of the built image. */
  readonly imageId: string;
}

/** Receives each complete log line as soon as the engine sends it. */
export type OnBuildLine = (stream: BuildLogStream, text: string) => void;

/** What the build needs from the engine it runs on. */
export interface BuildDeps {
  readonly modem: Modem;
  readonly endpoint: string;
  /**
   * How a cancelled build is stopped: `disconnect` (Docker cancels when the
   * request is cut) or `kill-cgroup` (Podman with the cgroupfs manager).
   */
  readonly stopBy: "disconnect" | "kill-cgroup";
  /** Resolves the built image id when the stream did not carry it. */
  readonly imageId: (ref: string, signal: AbortSignal) => Promise<string>;
}

/** How long a cancelled Podman build may take to fail before the request is cut. */
const PODMAN_STOP_GRACE_MS = 4000;

/**
 * Builds `options.tag` through `POST /build`, reporting log lines as they
 * arrive. Intermediate containers are always removed (`forcerm`), also when
 * a step fails. Rejects with `ImageBuildError` carrying the engine's message
 * and exit code when the Containerfile fails, `ImageRemovedDuringBuildError`
 * when another client's image removal broke Docker's cache lookup,
 * `EngineUnavailableError` when the socket does not answer, and
 * `EngineOperationCanceledError` when `signal` aborts: Docker stops the
 * build when the request is cut; Podman's API service does not, so its
 * `RUN` processes are killed in the build's own cgroup until the engine
 * reports the build ended.
 */
export async function buildImage(
  deps: BuildDeps,
  options: BuildImageOptions,
  onLine: OnBuildLine,
  signal: AbortSignal,
): Promise<BuildImageResult> {
  const operation = `build of "${options.tag}"`;
  if (signal.aborted) {
    options.context.destroy();
    throw new EngineOperationCanceledError(operation);
  }
  const cgroup = deps.stopBy === "kill-cgroup" ? createBuildCgroup(randomBytes(8).toString("hex")) : undefined;
  const request = new AbortController();
  const stopper = createStopper(cgroup, request, options.context);
  signal.addEventListener("abort", stopper.start, { once: true });
  const failure = { operation, endpoint: deps.endpoint, signal };

  try {
    let response: IncomingMessage;
    try {
      stopper.beforeResponse = true;
      response = (await dial(deps.modem, {
        path: "/build?",
        method: "POST",
        // Pieces that arrive in one turn of the event loop go to the engine in one write.
        file: inBatches(options.context),
        isStream: true,
        abortSignal: request.signal,
        options: buildQuery(options, cgroup),
        statusCodes: { 200: true, 400: "bad parameter", 500: "server error" },
      })) as IncomingMessage;
      stopper.beforeResponse = false;
    } catch (err) {
      options.context.destroy();
      throw toBuildError(err, options.tag, failure);
    }

    const parser = createBuildMessageParser();
    let imageId = "";
    let error: { message: string; exitCode: number | undefined } | undefined;
    const handle = (messages: ReturnType<typeof parser.push>) => {
      for (const m of messages) {
        if (m.type === "line") onLine(m.stream, m.text);
        else if (m.type === "imageId") imageId = m.id;
        else error ??= { message: m.message, exitCode: m.exitCode };
      }
    };
    try {
      for await (const chunk of response) handle(parser.push(chunk as Buffer));
      handle(parser.end());
    } catch (err) {
      handle(parser.end());
      throw classifyEngineError(err, failure);
    }
    if (signal.aborted) throw new EngineOperationCanceledError(operation);
    if (error !== undefined) {
      const removed = removedDuringBuild(error.message);
      throw removed === undefined ? new ImageBuildError(options.tag, error.message, error.exitCode) : new ImageRemovedDuringBuildError(options.tag, removed);
    }
    if (imageId === "") imageId = await deps.imageId(options.tag, signal);
    return { imageId };
  } finally {
    signal.removeEventListener("abort", stopper.start);
    stopper.dispose();
  }
}

function buildQuery(options: BuildImageOptions, cgroup: BuildCgroup | undefined): Record<string, unknown> {
  const query: Record<string, unknown> = {
    t: options.tag,
    dockerfile: options.dockerfile,
    rm: true,
    forcerm: true,
  };
  if (Object.keys(options.buildArgs).length > 0) query["buildargs"] = { ...options.buildArgs };
  if (options.labels !== undefined && Object.keys(options.labels).length > 0) query["labels"] = { ...options.labels };
  if (options.target) query["target"] = options.target;
  if (options.platform) query["platform"] = options.platform;
  if (options.networkMode) query["networkmode"] = options.networkMode;
  if (cgroup !== undefined) query["cgroupparent"] = cgroup.parent;
  return query;
}

/** Engine-side failures before the stream (bad Containerfile path, parse error) are build failures. */
function toBuildError(err: unknown, tag: string, failure: Parameters<typeof classifyEngineError>[1]): Error {
  const classified = classifyEngineError(err, failure);
  if (classified instanceof EngineRequestError && (classified.status === 400 || classified.status === 500)) {
    return new ImageBuildError(tag, classified.engineMessage, undefined);
  }
  return classified;
}

/**
 * Stops a running build once: Docker by cutting the request; Podman by
 * killing its cgroup's processes every 200 ms (so the build fails and its
 * stream ends) and cutting the request after a grace period.
 */
function createStopper(cgroup: BuildCgroup | undefined, request: AbortController, context: Readable) {
  const timers: NodeJS.Timeout[] = [];
  const stopper = {
    /** Until the engine answers, nothing runs yet: cutting the upload is enough. */
    beforeResponse: false,
    start: () => {
      context.destroy();
      if (cgroup === undefined || stopper.beforeResponse) {
        request.abort();
        return;
      }
      const kill = () => void cgroup.killAll();
      kill();
      timers.push(setInterval(kill, 200));
      timers.push(setTimeout(() => request.abort(), PODMAN_STOP_GRACE_MS));
    },
    dispose: () => {
      for (const t of timers) clearTimeout(t);
    },
  };
  return stopper;
}
