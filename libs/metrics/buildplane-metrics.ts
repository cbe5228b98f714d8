import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** A build phase timed by `buildplane_build_phase_duration_seconds`. */
export type BuildPhase = "resolve" | "fetch" | "context" | "build" | "push";

/** How a build ended, as `buildplane_builds_total{result}` names it. */
export type BuildResult = "succeeded" | "failed" | "canceled";

/** What the builder's gauges read when Prometheus scrapes. */
export interface BuildSlotsView {
  readonly running: number;
  readonly queued: number;
}

/** One builder node of a delegate pool, as the `builder_nodes` gauge counts it. */
export interface BuilderNodeStateView {
  readonly healthy: boolean;
}

/**
 * Every metric one buildplane server exposes, in its own prom-client
 * registry (two servers in one process never share counters). Label values
 * are bounded: modes, results, phases, HTTP operations and status codes,
 * RPC service, method and code names — never an image, a commit or a build id.
 */
export interface BuildplaneMetrics {
  readonly registry: Registry;
  readonly ensureImageRequests: Counter<"result" | "cached">;
  readonly builds: Counter<"mode" | "result">;
  readonly buildDuration: Histogram<"mode">;
  readonly phaseDuration: Histogram<"phase">;
  readonly registryRequests: Counter<"op" | "code">;
  readonly gitFetchDuration: Histogram<"result">;
  readonly mirrorLookups: Counter<"result">;
  readonly grpcStarted: Counter<"grpc_service" | "grpc_method" | "grpc_type">;
  readonly grpcHandled: Counter<"grpc_service" | "grpc_method" | "grpc_type" | "grpc_code">;
  readonly grpcHandling: Histogram<"grpc_service" | "grpc_method" | "grpc_type">;
  /** Times one phase: call the returned function when it ends. */
  startPhase(phase: BuildPhase): () => void;
  /** Reads the build queue and running builds from `slots` at every scrape. */
  watchSlots(slots: BuildSlotsView): void;
  /** Reads the delegate pool's nodes at every scrape (a builder without a pool lists none, and shows no series). */
  watchNodes(nodes: () => Promise<readonly BuilderNodeStateView[]>): void;
}

const buildBuckets = [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 3600];
const phaseBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const rpcBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

/**
 * Creates the metrics of one server, with Node's process defaults
 * (`process_*`, `nodejs_*`) unless `processMetrics` is false: a process
 * nobody scrapes (the embedded CLI) skips their event-loop and GC
 * observers.
 */
export function createBuildplaneMetrics(options: { readonly processMetrics?: boolean } = {}): BuildplaneMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters, which `promtool check metrics` refuses; their
    // values are the sums of nodejs_active_handles/requests/resources, kept.
    for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) registry.removeSingleMetric(name);
  }
  const registers = [registry];
  const slots: BuildSlotsView[] = [];
  const pools: Array<() => Promise<readonly BuilderNodeStateView[]>> = [];
  const phaseDuration = new Histogram({
    name: "buildplane_build_phase_duration_seconds",
    help: "Duration of one phase of a build: resolve (commit, tree and existence), fetch (git), context (streaming it to the builder), build (the engine, Job or node), push.",
    labelNames: ["phase"] as const,
    buckets: phaseBuckets,
    registers,
  });
  new Gauge({
    name: "buildplane_build_queue_depth",
    help: "Builds waiting for a build slot on this builder.",
    registers,
    collect() {
      this.set(slots.reduce((n, s) => n + s.queued, 0));
    },
  });
  new Gauge({
    name: "buildplane_builds_running",
    help: "Builds holding a build slot on this builder.",
    registers,
    collect() {
      this.set(slots.reduce((n, s) => n + s.running, 0));
    },
  });
  new Gauge({
    name: "buildplane_builder_nodes",
    help: "Builder nodes of this install's delegate pool by state (healthy, unhealthy), as last probed.",
    labelNames: ["state"] as const,
    registers,
    async collect() {
      const lists = await Promise.all(pools.map((nodes) => nodes().catch(() => [])));
      const all = lists.flat();
      if (all.length === 0) return;
      this.set({ state: "healthy" }, all.filter((n) => n.healthy).length);
      this.set({ state: "unhealthy" }, all.filter((n) => !n.healthy).length);
    },
  });
  const grpcLabels = ["grpc_service", "grpc_method", "grpc_type"] as const;
  return {
    registry,
    ensureImageRequests: new Counter({
      name: "buildplane_ensure_image_requests_total",
      help: "EnsureImage requests by outcome (ready, failed, canceled) and whether the image existed already.",
      labelNames: ["result", "cached"] as const,
      registers,
    }),
    builds: new Counter({
      name: "buildplane_builds_total",
      help: "Builds run by this builder by mode and result.",
      labelNames: ["mode", "result"] as const,
      registers,
    }),
    buildDuration: new Histogram({
      name: "buildplane_build_duration_seconds",
      help: "Duration of a build on this builder, from its slot to its outcome, by mode.",
      labelNames: ["mode"] as const,
      buckets: buildBuckets,
      registers,
    }),
    phaseDuration,
    registryRequests: new Counter({
      name: "buildplane_registry_requests_total",
      help: "HTTP requests to container registries by operation and status code (every retry counted; code is the transport error for a request without an answer).",
      labelNames: ["op", "code"] as const,
      registers,
    }),
    gitFetchDuration: new Histogram({
      name: "buildplane_git_fetch_duration_seconds",
      help: "Duration of a git fetch into a mirror, by result (ok, error).",
      labelNames: ["result"] as const,
      buckets: phaseBuckets,
      registers,
    }),
    mirrorLookups: new Counter({
      name: "buildplane_git_mirror_lookups_total",
      help: "Commit lookups in the git mirror cache: hit (in the mirror already) or miss (a fetch was needed).",
      labelNames: ["result"] as const,
      registers,
    }),
    grpcStarted: new Counter({
      name: "grpc_server_started_total",
      help: "RPCs started on the server.",
      labelNames: grpcLabels,
      registers,
    }),
    grpcHandled: new Counter({
      name: "grpc_server_handled_total",
      help: "RPCs completed on the server, by status code.",
      labelNames: [...grpcLabels, "grpc_code"] as const,
      registers,
    }),
    grpcHandling: new Histogram({
      name: "grpc_server_handling_seconds",
      help: "Time from the start of an RPC to its status, on the server.",
      labelNames: grpcLabels,
      buckets: rpcBuckets,
      registers,
    }),
    startPhase(phase) {
      const end = phaseDuration.startTimer({ phase });
      let ended = false;
      return () => {
        if (!ended) (ended = true), end();
      };
    },
    watchSlots(view) {
      slots.push(view);
    },
    watchNodes(nodes) {
      pools.push(nodes);
    },
  };
}
