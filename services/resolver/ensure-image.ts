import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import {
  BuildEventSchema,
  BuildStatus,
  GitSourceSchema,
  LogStream,
  type BuildEvent,
  type BuildSpec,
  type ImageRef,
  type Registry,
} from "../../libs/gen/buildplane/v1/common_pb.js";
import { repositoryWithoutCredentials } from "../../libs/image/repository-without-credentials.js";
import { createBuildFlight, type BuildFlight } from "./build-flight.js";
import { followRemoteBuild } from "./follow-remote-build.js";
import { isDomainError } from "../../libs/errors/domain-error.js";
import { codeName } from "../../libs/rpc/code-names.js";
import { connectCodeOf } from "../../libs/rpc/errors.js";
import { refuseUnservable } from "./builder-preflight.js";
import type { PushCheck } from "./push-check.js";
import { runBuild, type RunBuildClients } from "./run-build.js";
import { secretsOfPlan } from "./plan-secrets.js";
import { createLogScrubber } from "../../libs/secret/scrub.js";
import type { BuildSchema } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { createBuildRecord } from "./build-record.js";
import type { HolderIdentity } from "./holder-identity.js";
import { keepLease, type KeptLease } from "./lease-keep.js";
import { releaseLease } from "./lease-release.js";
import { takeLease, type HeldLease } from "./lease-take.js";
import { createOutageBudget } from "./outage-budget.js";

/** What resolving a spec found: the name, the inputs, and whether the image exists. */
export interface ResolvedImage {
  readonly image: ImageRef;
  readonly commit: string;
  readonly treeHash: string;
  /** Containerfile path relative to the build folder. */
  readonly containerfile: string;
  readonly exists: boolean;
  readonly digest: string;
}

/** What `createEnsureImage` needs. */
export interface EnsureImageDeps {
  readonly clients: RunBuildClients;
  resolve(spec: BuildSpec, signal: AbortSignal): Promise<ResolvedImage>;
  /** The registry destination with credentials, or undefined to keep images local. */
  registry(signal: AbortSignal): Promise<Registry | undefined>;
  /** Identifies this process in leases (`host/pid/instance`). */
  readonly holder: HolderIdentity;
  /** Builder mode name stored with each build. */
  readonly mode: string;
  readonly timeoutSecs: number;
  readonly leaseTtlMs: number;
  /** `[metadata] outage_budget_secs`, in ms: how long a build rides out a metadata database that is away. */
  readonly outageBudgetMs: number;
  /** Checks the registry accepts a push before any lease, record or build step (push-check.ts). */
  readonly pushCheck?: PushCheck;
  /** Secret values of this process's config (tokens, passwords), scrubbed from build logs with the request's own. */
  readonly knownSecrets?: () => readonly string[];
}

/** The EnsureImage flow, as an async iterable of events per request. */
export type EnsureImage = (spec: BuildSpec, force: boolean, signal: AbortSignal) => AsyncIterable<BuildEvent>;

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

/** EnsureImage plus what shutdown and uploads need. */
export interface EnsureImageFlow extends EnsureImage {
  /** Follows the build of `key` running in this process, or undefined when none runs. */
  attachRunning(key: string, signal: AbortSignal): AsyncIterable<BuildEvent> | undefined;
  /**
   * Builds `resolved` from an uploaded context, once per image key as
   * EnsureImage does; when a build of the key already runs here the caller
   * follows it and the upload is disposed at once.
   */
  buildUploaded(spec: BuildSpec, resolved: ResolvedImage, upload: UploadedBuildContext, signal: AbortSignal): AsyncIterable<BuildEvent>;
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
 * in this process attach to the running flight, callers in other processes
 * find the metadata lease taken and follow that build's stored log.
 */
export function createEnsureImage(deps: EnsureImageDeps): EnsureImageFlow {
  const flights = new Map<string, BuildFlight>();
  const running = new Set<Promise<void>>();
  const leaseKey = (imageKey: string): string => `build:${imageKey}`;

  const start = (spec: BuildSpec, resolved: ResolvedImage, upload?: UploadedBuildContext, force = false): BuildFlight => {
    // An uploaded context is never looked up through the source service, not even to re-check existence.
    const flowDeps: EnsureImageDeps = upload ? { ...deps, resolve: (_spec, signal) => upload.resolve(signal) } : deps;
    const flight = createBuildFlight();
    const key = resolved.image.key;
    flights.set(key, flight);
    // Once its last caller left the flight is stopping: a new caller must
    // start afresh (and take over the lease when it is released), not
    // attach to a build that can only end canceled.
    flight.signal.addEventListener("abort", () => {
      if (flights.get(key) === flight) flights.delete(key);
    });
    const run = (async () => {
      const budget = createOutageBudget({ budgetMs: deps.outageBudgetMs });
      const metadata = deps.clients.metadata;
      let lease: HeldLease | undefined;
      let kept: KeptLease | undefined;
      let replaced: string | undefined;
      try {
        // A request the builder's mode cannot serve is refused before a lease or a record exists.
        const registry = await deps.registry(flight.signal);
        await refuseUnservable(deps.clients.builder, spec, resolved.image.reference, registry, flight.signal);
        if (registry && registry.url !== "") await deps.pushCheck?.(registry, resolved.image.reference, flight.signal);
        const take = { metadata, budget, self: deps.holder, ttlMs: deps.leaseTtlMs };
        while (!lease) {
          const took = await takeLease(take, leaseKey(key));
          if (took.taken) {
            lease = took.lease;
            replaced = took.replaced;
            break;
          }
          // Another process builds it: follow, and build here if that build stops without an outcome.
          if ((await followRemoteBuild(flowDeps, spec, resolved, flight)) === "ended") return;
        }
        if (!force && !upload) {
          // A flight that ended between this caller's existence check and
          // now (its image pushed, its lease released) must not be built twice.
          const again = await deps.resolve(spec, flight.signal);
          if (again.exists) {
            flight.emit(create(BuildEventSchema, { time: timestampNow(), event: { case: "ready", value: { image: again.image.reference, digest: again.digest, cached: true } } }));
            flight.finish();
            return;
          }
        }
        kept = keepLease(metadata, lease, { ttlMs: deps.leaseTtlMs });
        const record = await createBuildRecord({ metadata, budget, token: lease.token }, newBuild(deps, spec, resolved));
        if (replaced) {
          // Told to callers and kept as the new build's first stored line.
          const line = systemLine(`build lease ${lease.key} was held by ${replaced}, whose process is gone: building again`, record.id);
          if (line.event.case === "log") record.log(line.event.value);
          flight.emit(line);
        }
        const plan = {
          buildId: record.id,
          spec,
          image: resolved.image,
          commit: resolved.commit,
          treeHash: resolved.treeHash,
          containerfile: resolved.containerfile,
          registry,
          timeoutSecs: deps.timeoutSecs,
          context: upload ? (signal: AbortSignal) => upload.chunks(signal) : undefined,
          knownSecrets: deps.knownSecrets?.() ?? [],
        };
        const stop = AbortSignal.any([flight.signal, kept.lost, record.failed]);
        const { final, error } = await runBuild(deps.clients, plan, record, (e) => flight.emit(e), stop);
        flight.emit(final);
        flight.finish(error);
      } catch (err) {
        const error = isDomainError(err) ? new ConnectError(err.message, connectCodeOf(err.code)) : ConnectError.from(err);
        flight.emit(failedEvent("", error));
        flight.finish(error);
      } finally {
        kept?.stop();
        if (flights.get(key) === flight) flights.delete(key);
        await upload?.dispose().catch(() => undefined);
        if (lease && !kept?.lost.aborted) await releaseLease(metadata, budget, lease);
      }
    })();
    running.add(run);
    void run.finally(() => running.delete(run));
    return flight;
  };

  const ensureImage: EnsureImage = async function* (spec, force, signal) {
    const resolved = await deps.resolve(spec, signal);
    if (resolved.exists && !force) {
      yield create(BuildEventSchema, {
        time: timestampNow(),
        event: { case: "ready", value: { image: resolved.image.reference, digest: resolved.digest, cached: true } },
      });
      return;
    }
    const flight = flights.get(resolved.image.key) ?? start(spec, resolved, undefined, force);
    yield* flight.attach(signal);
  };
  return Object.assign(ensureImage, {
    attachRunning(key: string, signal: AbortSignal) {
      return flights.get(key)?.attach(signal);
    },
    buildUploaded(spec: BuildSpec, resolved: ResolvedImage, upload: UploadedBuildContext, signal: AbortSignal) {
      const running = flights.get(resolved.image.key);
      if (running) void upload.dispose().catch(() => undefined);
      return (running ?? start(spec, resolved, upload)).attach(signal);
    },
    cancelAll(reason: Error) {
      for (const flight of [...flights.values()]) flight.cancel(reason);
    },
    async drain() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  });
}

/** The new build record of `resolved`, queued; its source without URL credentials. */
function newBuild(deps: EnsureImageDeps, spec: BuildSpec, resolved: ResolvedImage): MessageInitShape<typeof BuildSchema> {
  const { scrub: recordScrub } = createLogScrubber(secretsOfPlan({ spec, knownSecrets: deps.knownSecrets?.() ?? [] }));
  return {
    appId: spec.appId,
    imageKey: resolved.image.key,
    image: resolved.image.reference,
    commit: resolved.commit,
    treeHash: resolved.treeHash,
    mode: deps.mode,
    status: BuildStatus.QUEUED,
    requester: spec.requester,
    // The record is listed to anyone who can read builds: no URL credentials in it.
    source: create(GitSourceSchema, {
      repository: repositoryWithoutCredentials(spec.source?.repository ?? ""),
      ref: spec.source?.ref ?? "",
      dir: spec.source?.dir ?? "",
      authName: spec.source?.authName ?? "",
    }),
    containerfile: resolved.containerfile,
    // Secret values stay out of the record: by name only; a plain arg that
    // carries a known secret (a git password, a token) is stored as ***.
    args: spec.args.map((a) => ({ name: a.name, value: a.secret ? "" : recordScrub(a.value), secret: a.secret })),
    target: spec.target,
    platform: spec.platform,
  };
}

/** A line of buildplane's own for the callers of a flight. */
function systemLine(text: string, buildId = ""): BuildEvent {
  return create(BuildEventSchema, { buildId, time: timestampNow(), event: { case: "log", value: { stream: LogStream.SYSTEM, text, time: timestampNow() } } });
}

/** A `Failed` event for an error that ended the flow outside the builder. */
export function failedEvent(buildId: string, error: ConnectError): BuildEvent {
  return create(BuildEventSchema, {
    buildId,
    time: timestampNow(),
    event: { case: "failed", value: { code: codeName(error.code), message: error.rawMessage, logTail: [] } },
  });
}

