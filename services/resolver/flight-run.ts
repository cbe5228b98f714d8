import { domainErrorOf, errorCodeName, type DomainError } from "../../libs/errors/domain-error.js";
import type { RegistryTarget } from "../../libs/registry/registry-target.js";
import type { BuildFlight } from "./build-flight.js";
import { refuseUnservable } from "./builder-preflight.js";
import { createBuildRecord, type BuildRecord } from "./build-record.js";
import { imageEvent, type ImageEvent, type ImageSpec, type ResolvedImage } from "./domain.js";
import type { HolderIdentity } from "./holder-identity.js";
import { keepLease, type KeptLease } from "./lease-keep.js";
import { leaseOrFollow, type LeaseForBuild } from "./lease-or-follow.js";
import { releaseLease } from "./lease-release.js";
import { newBuild } from "./new-build.js";
import { createOutageBudget, type OutageBudget } from "./outage-budget.js";
import type { EnsurePorts } from "./ports.js";
import type { PushCheck } from "./push-check.js";
import { runBuild } from "./run-build.js";

/** What running one flight needs: the ports and this process's settings. */
export interface FlightDeps {
  readonly ports: EnsurePorts;
  resolve(spec: ImageSpec, signal: AbortSignal): Promise<ResolvedImage>;
  /** The registry destination with credentials, or undefined to keep images local. */
  registry(signal: AbortSignal): Promise<RegistryTarget | undefined>;
  /** Identifies this process in leases (`host/pid/instance`). */
  readonly holder: HolderIdentity;
  /** Builder mode name stored with each build. */
  readonly mode: string;
  readonly timeoutSecs: number;
  readonly leaseTtlMs: number;
  /** `[metadata] outage_budget_secs`, in ms: how long a build rides out a metadata database that is away. */
  readonly outageBudgetMs: number;
  /** Checks the registry accepts a push before any lease, record or build step (push-check.ts). */
  readonly pushCheck?: PushCheck | undefined;
  /** Secret values of this process's config (tokens, passwords), scrubbed from build logs with the request's own. */
  readonly knownSecrets?: (() => readonly string[]) | undefined;
  /** Aborts when the server shuts down: a lease release then stops waiting for the database. */
  readonly stopping?: AbortSignal | undefined;
}

/** One flight's request: the spec, what resolving it found, and where its context comes from. */
export interface FlightRequest {
  readonly spec: ImageSpec;
  readonly resolved: ResolvedImage;
  /** Build even when the image exists. */
  readonly force: boolean;
  /** The context the caller uploaded, spooled here: built from, and never looked up through the source service. */
  readonly upload?: UploadedBuildContext | undefined;
}

/**
 * A context the caller uploaded, spooled on this server: a build started
 * for it reads the spool instead of the source service, and re-checks
 * existence without it. Disposed when that build ends.
 */
export interface UploadedBuildContext {
  chunks(signal: AbortSignal): AsyncIterable<Uint8Array>;
  resolve(signal: AbortSignal): Promise<ResolvedImage>;
  dispose(): Promise<void>;
}

/**
 * Runs one flight to its end, in four steps each in its own module:
 * preflight (the builder can serve it, the registry takes the push);
 * lease (lease-or-follow.ts: ours, or follow the process that has it);
 * record and run (build-record.ts, run-build.ts, the lease kept meanwhile
 * by lease-keep.ts); release (lease-release.ts), whatever happened. The
 * flight always ends finished, with a Ready or Failed event; `ended` runs
 * then, before the lease is released, and an upload is disposed.
 */
export async function runFlight(flowDeps: FlightDeps, req: FlightRequest, flight: BuildFlight, ended: () => void = () => undefined): Promise<void> {
  const upload = req.upload;
  // An uploaded context is never looked up through the source service, not even to re-check existence.
  const deps: FlightDeps = upload ? { ...flowDeps, resolve: (_spec, signal) => upload.resolve(signal) } : flowDeps;
  const budget = createOutageBudget({ budgetMs: deps.outageBudgetMs });
  let held: LeaseForBuild | undefined;
  let kept: KeptLease | undefined;
  const run: { record?: BuildRecord } = {};
  try {
    const registry = await preflight(deps, req, flight.signal);
    held = await leaseOrFollow(
      { leases: deps.ports.metadata, budget, self: deps.holder, ttlMs: deps.leaseTtlMs },
      { builds: deps.ports.metadata, resolve: deps.resolve, leaseTtlMs: deps.leaseTtlMs },
      req.spec,
      req.resolved,
      flight,
    );
    if (!held) return;
    if (await builtMeanwhile(deps, req, flight)) return;
    kept = keepLease(deps.ports.metadata, held.lease, { ttlMs: deps.leaseTtlMs });
    await recordAndRun(deps, req, registry, held, kept, budget, flight, run);
  } catch (err) {
    const error = domainErrorOf(err);
    flight.emit(failedEvent("", error));
    flight.finish(error);
  } finally {
    kept?.stop();
    ended();
    await upload?.dispose().catch(() => undefined);
    // The outcome first (written late after an outage), then the lease:
    // also a lease lost to an outage, its release fenced by its token.
    if (run.record) await untilStopping(run.record.lateWrite(), deps.stopping);
    if (held) await releaseLease(deps.ports.metadata, budget, held.lease, deps.leaseTtlMs, deps.stopping);
  }
}

/**
 * Refuses, before a lease or a record exists, a request the builder's mode
 * cannot serve or a registry that would refuse the push; returns the
 * registry destination.
 */
async function preflight(deps: FlightDeps, req: FlightRequest, signal: AbortSignal): Promise<RegistryTarget | undefined> {
  const registry = await deps.registry(signal);
  await refuseUnservable(deps.ports.builder, req.spec, req.resolved.image.reference, registry, signal);
  if (registry && registry.url !== "") await deps.pushCheck?.(registry, req.resolved.image.reference, signal);
  return registry;
}

/**
 * A flight that ended between this caller's existence check and the lease
 * (its image pushed, its lease released) must not be built twice: checks
 * again, and answers Ready when the image is there now. Not for a forced
 * build, nor for an upload (never looked up through the source service).
 */
async function builtMeanwhile(deps: FlightDeps, req: FlightRequest, flight: BuildFlight): Promise<boolean> {
  if (req.force || req.upload) return false;
  const again = await deps.resolve(req.spec, flight.signal);
  if (!again.exists) return false;
  flight.emit(imageEvent("", { type: "ready", image: again.image.reference, digest: again.digest, cached: true }));
  flight.finish();
  return true;
}

/** Creates the build record under the lease, runs the build, and ends the flight with its outcome. */
async function recordAndRun(
  deps: FlightDeps,
  req: FlightRequest,
  registry: RegistryTarget | undefined,
  held: LeaseForBuild,
  kept: KeptLease,
  budget: OutageBudget,
  flight: BuildFlight,
  run: { record?: BuildRecord },
): Promise<void> {
  const { lease, replaced } = held;
  const knownSecrets = deps.knownSecrets?.() ?? [];
  const record = await createBuildRecord({ builds: deps.ports.metadata, budget, token: lease.token }, newBuild(req.spec, req.resolved, deps.mode, knownSecrets));
  run.record = record;
  if (replaced) {
    // Told to callers and kept as the new build's first stored line.
    const text = `build lease ${lease.key} was held by ${replaced}, whose process is gone: building again`;
    const line = { seq: 0n, stream: "system" as const, text, time: new Date() };
    record.log(line);
    flight.emit(imageEvent(record.id, { type: "log", line }));
  }
  const { resolved, upload } = req;
  const plan = {
    buildId: record.id,
    spec: req.spec,
    image: resolved.image,
    commit: resolved.commit,
    treeHash: resolved.treeHash,
    containerfile: resolved.containerfile,
    registry,
    timeoutSecs: deps.timeoutSecs,
    context: upload ? (signal: AbortSignal) => upload.chunks(signal) : undefined,
    knownSecrets,
  };
  const stop = AbortSignal.any([flight.signal, kept.lost, record.failed]);
  const { final, error } = await runBuild(deps.ports, plan, record, (e) => flight.emit(e), stop);
  flight.emit(final);
  flight.finish(error);
}

/** Waits for `work`, or until `stopping` aborts (the server shuts down), whichever is first. */
async function untilStopping(work: Promise<void>, stopping: AbortSignal | undefined): Promise<void> {
  if (!stopping) return work;
  if (stopping.aborted) return;
  let onStop = (): void => {};
  const stopped = new Promise<void>((resolve) => (onStop = resolve));
  stopping.addEventListener("abort", onStop, { once: true });
  try {
    await Promise.race([work, stopped]);
  } finally {
    stopping.removeEventListener("abort", onStop);
  }
}

/** A `Failed` event for an error that ended the flow outside the builder. */
export function failedEvent(buildId: string, error: DomainError): ImageEvent {
  return imageEvent(buildId, { type: "failed", code: errorCodeName(error.code), message: error.message, logTail: [] });
}
