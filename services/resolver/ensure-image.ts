import { createBuildFlight, type BuildFlight } from "./build-flight.js";
import { imageEvent, type ImageEvent, type ImageSpec, type ResolvedImage } from "./domain.js";
import { runFlight, type FlightDeps, type UploadedBuildContext } from "./flight-run.js";

export { failedEvent, type UploadedBuildContext } from "./flight-run.js";
export type { ResolvedImage } from "./domain.js";

/** What `createEnsureImage` needs: the ports to the other services and this process's settings (flight-run.ts). */
export type EnsureImageDeps = FlightDeps;

/** The EnsureImage flow, as an async iterable of events per request. */
export type EnsureImage = (spec: ImageSpec, force: boolean, signal: AbortSignal) => AsyncIterable<ImageEvent>;

/** EnsureImage plus what shutdown and uploads need. */
export interface EnsureImageFlow extends EnsureImage {
  /** Follows the build of `key` running in this process, or undefined when none runs. */
  attachRunning(key: string, signal: AbortSignal): AsyncIterable<ImageEvent> | undefined;
  /**
   * Builds `resolved` from an uploaded context, once per image key as
   * EnsureImage does; when a build of the key already runs here the caller
   * follows it and the upload is disposed at once.
   */
  buildUploaded(spec: ImageSpec, resolved: ResolvedImage, upload: UploadedBuildContext, signal: AbortSignal): AsyncIterable<ImageEvent>;
  /**
   * Resolves once every build this process runs or follows has ended and
   * written its final record and released its lease. A build whose callers
   * all left is already stopping, so this is short; shutdown awaits it
   * before it closes the metadata database.
   */
  drain(): Promise<void>;
  /** Stops every build this process runs or follows with `reason`; their callers get the canceled outcome. */
  cancelAll(reason: Error): void;
}

/**
 * Creates the EnsureImage flow (DESIGN.md steps 1–6): resolve; when the
 * image exists, answer at once; else build it once per image key — callers
 * in this process attach to the running flight (build-flight.ts), callers
 * in other processes find the metadata lease taken and follow that build's
 * stored log. What one flight does, step by step, is in flight-run.ts.
 */
export function createEnsureImage(ensureDeps: EnsureImageDeps): EnsureImageFlow {
  const stopping = new AbortController();
  const deps = { ...ensureDeps, stopping: stopping.signal };
  const flights = new Map<string, BuildFlight>();
  const running = new Set<Promise<void>>();

  const start = (spec: ImageSpec, resolved: ResolvedImage, upload?: UploadedBuildContext, force = false): BuildFlight => {
    const flight = createBuildFlight();
    const key = resolved.image.key;
    flights.set(key, flight);
    const forget = (): void => {
      if (flights.get(key) === flight) flights.delete(key);
    };
    // Once its last caller left the flight is stopping: a new caller must
    // start afresh (and take over the lease when it is released), not
    // attach to a build that can only end canceled.
    flight.signal.addEventListener("abort", forget);
    const run = runFlight(deps, { spec, resolved, force, upload }, flight, forget);
    running.add(run);
    void run.finally(() => running.delete(run));
    return flight;
  };

  const ensureImage: EnsureImage = async function* (spec, force, signal) {
    const resolved = await deps.resolve(spec, signal);
    if (resolved.exists && !force) {
      yield imageEvent("", { type: "ready", image: resolved.image.reference, digest: resolved.digest, cached: true });
      return;
    }
    const flight = flights.get(resolved.image.key) ?? start(spec, resolved, undefined, force);
    yield* flight.attach(signal);
  };
  return Object.assign(ensureImage, {
    attachRunning(key: string, signal: AbortSignal) {
      return flights.get(key)?.attach(signal);
    },
    buildUploaded(spec: ImageSpec, resolved: ResolvedImage, upload: UploadedBuildContext, signal: AbortSignal) {
      const running = flights.get(resolved.image.key);
      if (running) void upload.dispose().catch(() => undefined);
      return (running ?? start(spec, resolved, upload)).attach(signal);
    },
    cancelAll(reason: Error) {
      stopping.abort(reason);
      for (const flight of [...flights.values()]) flight.cancel(reason);
    },
    async drain() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  });
}
