import { DomainError, isDomainError } from "../../libs/errors/domain-error.js";
import type { BuildplaneMetrics } from "../../libs/metrics/buildplane-metrics.js";
import type { RpcLogger } from "../../libs/rpc/logger.js";
import { withSpan } from "../../libs/tracing/trace-context.js";
import { createLogScrubber, type LogScrubber } from "../../libs/secret/scrub.js";
import type { Secret } from "../../libs/secret/secret.js";
import { BuildCanceledError, BuildTimeoutError } from "./build-errors.js";
import type { BuildSlots } from "./build-slots.js";
import { checkCapabilities } from "./capability-check.js";
import type { ModeCapabilities } from "./builder-mode.js";
import { confineContext, type ArchiveLimits } from "./context-confiner.js";
import type { BuildJob, BuildOutcome, BuildProgress, ImageBuilder } from "./image-builder.js";

/** What the lifecycle reports besides the mode's own progress. */
export type LifecycleEvent =
  | BuildProgress
  | { readonly type: "queued"; readonly position: number }
  | { readonly type: "started" };

export interface BuildLifecycleDeps {
  readonly builder: ImageBuilder;
  readonly capabilities: ModeCapabilities;
  readonly slots: BuildSlots;
  readonly archiveLimits?: Partial<ArchiveLimits>;
  /** Secrets of this process's configuration (tokens, passwords), scrubbed from every build's logs and errors. */
  readonly knownSecrets?: readonly (string | Secret | undefined)[];
  /** Counts builds, times them and the context phase; logs their start and end. */
  readonly metrics?: BuildplaneMetrics;
  readonly log?: RpcLogger;
}

/** One build's way through the builder, whichever wire it came over. */
export interface BuildLifecycle {
  /**
   * Runs `job` (its context an uncompressed tar as received): capability
   * checks, then a slot (queue positions reported), the archive confiner,
   * the mode's build under the job's one deadline, and the outcome. Rejects
   * with the one error that ended the build: the caller's cancellation, the
   * deadline, a refused archive, or the mode's failure. Log lines and the
   * error's message have every known secret (the configuration's, the job's
   * secret args and registry credentials) replaced by `***`.
   */
  run(job: BuildJob, onEvent: (e: LifecycleEvent) => void, callerSignal: AbortSignal): Promise<BuildOutcome>;
  /** Stops a running build with `BuildCanceledError`; false when none runs under that id. */
  cancel(buildId: string): boolean;
  /** Stops every running build with `reason` (the server shuts down). */
  cancelAll(reason: Error): void;
}

/** The builder's one lifecycle, shared by the gRPC `Build` handler and the OpenRun endpoint. */
export function createBuildLifecycle(deps: BuildLifecycleDeps): BuildLifecycle {
  const running = new Map<string, AbortController>();
  return {
    async run(job, onEventRaw, callerSignal) {
      checkCapabilities(deps.builder.mode, deps.capabilities, job);
      const scrubber = jobScrubber(job, deps.knownSecrets ?? []);
      const onEvent = (e: LifecycleEvent): void => onEventRaw(e.type === "log" ? { ...e, text: scrubber.scrub(e.text) } : e);
      if (running.has(job.buildId)) throw new DomainError("alreadyExists", `build ${job.buildId} is already running here`);
      const stop = new AbortController();
      running.set(job.buildId, stop);
      const raw = job.context;
      const context = confineContext(raw, deps.archiveLimits ?? {});
      // A context refused on its way (unsafe entry, upload cut) fails the build with that reason.
      const onContextError = (err: unknown): void => stop.abort(err);
      raw.once("error", onContextError);
      context.once("error", onContextError);
      const onCallerGone = (): void => stop.abort(new BuildCanceledError(job.buildId));
      if (callerSignal.aborted) onCallerGone();
      else callerSignal.addEventListener("abort", onCallerGone, { once: true });
      const timer = setTimeout(() => stop.abort(new BuildTimeoutError(job.buildId, job.timeoutSecs)), job.timeoutSecs * 1000);
      const observed = observeBuild(deps, job);
      raw.once("end", observed.contextReceived);
      try {
        const slot = await deps.slots.acquire(stop.signal, (position) => onEvent({ type: "queued", position }));
        try {
          onEvent({ type: "started" });
          const outcome = await withSpan("build", { "buildplane.build_id": job.buildId, "buildplane.mode": deps.builder.mode }, () => deps.builder.build({ ...job, context }, onEvent, stop.signal));
          observed.end(undefined);
          return outcome;
        } finally {
          slot.release();
        }
      } catch (err) {
        const error = scrubbed(stop.signal.aborted && isDomainError(stop.signal.reason) ? stop.signal.reason : err, scrubber);
        observed.end(error);
        throw error;
      } finally {
        clearTimeout(timer);
        callerSignal.removeEventListener("abort", onCallerGone);
        running.delete(job.buildId);
        context.destroy();
        raw.destroy();
      }
    },
    cancelAll(reason) {
      for (const stop of running.values()) stop.abort(reason);
    },
    cancel(buildId) {
      const stop = running.get(buildId);
      if (!stop) return false;
      stop.abort(new BuildCanceledError(buildId));
      return true;
    },
  };
}

/** Build start and end as metrics and log lines (`build_id`, `image_key`, `mode`; never an arg or a credential). */
function observeBuild(deps: BuildLifecycleDeps, job: BuildJob): { contextReceived(): void; end(err: unknown): void } {
  const mode = deps.builder.mode;
  const fields = { build_id: job.buildId, image_key: job.imageKey, mode };
  const started = performance.now();
  const contextPhase = deps.metrics?.startPhase("context");
  deps.log?.info("build started", fields);
  return {
    contextReceived: () => contextPhase?.(),
    end(err) {
      const seconds = (performance.now() - started) / 1000;
      const code = err === undefined ? undefined : isDomainError(err) ? err.code : "internal";
      const result = code === undefined ? "succeeded" : code === "canceled" ? "canceled" : "failed";
      deps.metrics?.builds.inc({ mode, result });
      deps.metrics?.buildDuration.observe({ mode }, seconds);
      const ended = { ...fields, result, duration_ms: Math.round(seconds * 1000), ...(code ? { code, error: err instanceof Error ? err.message : String(err) } : {}) };
      if (code === undefined) deps.log?.info("build finished", ended);
      else deps.log?.error("build finished", ended);
    },
  };
}

/** The secrets one build may print: the configuration's, its secret args and its registry credentials. */
function jobScrubber(job: BuildJob, known: readonly (string | Secret | undefined)[]): LogScrubber {
  const args = job.args.map((a) => (typeof a.value === "string" ? undefined : a.value));
  return createLogScrubber([...known, ...args, job.registry?.password, job.registry?.clientKeyPem]);
}

/** A domain error whose message held a secret, rebuilt with the secret scrubbed; other errors as they are. */
function scrubbed(err: unknown, scrubber: LogScrubber): unknown {
  if (scrubber.size === 0 || !isDomainError(err)) return err;
  const message = scrubber.scrub(err.message);
  return message === err.message ? err : new DomainError(err.code, message);
}
