import type { CapabilityRequest } from "../../libs/build/capability-check.js";
import { CallError } from "../../services/resolver/call-error.js";
import type { BuildState, ImageEventBody, LogEntry, NewBuild, RecordFields, ResolvedImage, StoredBuild } from "../../services/resolver/domain.js";
import type { BuilderPort, BuildOrder, LeaseAnswer, MetadataPort, SourcePort } from "../../services/resolver/ports.js";

/**
 * In-memory fakes of the resolver's ports, for the flow's unit tests. They
 * keep to what the real services promise: leases with holders, tokens and
 * expiry; fencing on every record write; a followed log that ends when
 * the build is final; failures are `CallError`s, as the real adapters
 * give. Each fake records what it was asked.
 */

const finalStates: ReadonlySet<BuildState> = new Set<BuildState>(["succeeded", "failed", "canceled", "abandoned"]);

/** A build as the fake metadata keeps it. */
export interface FakeBuild {
  readonly id: string;
  readonly created: NewBuild;
  readonly token: bigint;
  status: BuildState;
  digest: string;
  builderNode: string;
  errorCode: string;
  errorMessage: string;
  readonly logs: LogEntry[];
}

/** The fake metadata service: leases and builds, with a log of the calls. */
export interface FakeMetadata extends MetadataPort {
  readonly leases: Map<string, { holder: string; token: bigint; expiresAt: number }>;
  readonly builds: Map<string, FakeBuild>;
  /** Method names in call order ("acquire", "create", "update", "release"…). */
  readonly calls: string[];
  /** A build record of another process, as if it ran elsewhere. */
  addBuild(imageKey: string, status: BuildState): FakeBuild;
  /** Changes a stored build as its own process would, waking followers. */
  change(id: string, fields: Partial<Pick<FakeBuild, "status" | "digest" | "errorCode" | "errorMessage">>, lines?: readonly string[]): void;
  /** Refuses every renewal from now on (the lease changed hands). */
  refuseRenewals(): void;
  /** Resolves once `predicate` holds, checked after every call. */
  until(predicate: () => boolean): Promise<void>;
}

/** Creates an empty fake metadata service. */
export function createFakeMetadata(): FakeMetadata {
  const leases = new Map<string, { holder: string; token: bigint; expiresAt: number }>();
  const builds = new Map<string, FakeBuild>();
  const calls: string[] = [];
  let waiters: (() => void)[] = [];
  let nextToken = 1n;
  let nextId = 1;
  let refuse = false;
  const wake = (): void => {
    const now = waiters;
    waiters = [];
    for (const w of now) w();
  };
  const changed = (): Promise<void> => new Promise((resolve) => waiters.push(resolve));
  const record = (name: string): void => {
    calls.push(name);
    queueMicrotask(wake);
  };
  const build = (id: string): FakeBuild => {
    const b = builds.get(id);
    if (!b) throw new CallError("notFound", `build ${id} not found`);
    return b;
  };
  const fenced = (b: FakeBuild, token: bigint): void => {
    if (token !== b.token) throw new CallError("failedPrecondition", `fencing token ${token} of build ${b.id} is not current`);
    if (finalStates.has(b.status)) throw new CallError("failedPrecondition", `build ${b.id} is ${b.status}, a final status`);
  };
  const stored = (b: FakeBuild): StoredBuild => ({
    id: b.id,
    status: b.status,
    mode: b.created.mode,
    builderNode: b.builderNode,
    digest: b.digest,
    errorCode: b.errorCode,
    errorMessage: b.errorMessage,
  });
  const newBuild = (created: NewBuild, token: bigint): FakeBuild => {
    const b: FakeBuild = { id: `b_${nextId++}`, created, token, status: created.status, digest: "", builderNode: "", errorCode: "", errorMessage: "", logs: [] };
    builds.set(b.id, b);
    return b;
  };

  return {
    leases,
    builds,
    calls,
    async acquire(req): Promise<LeaseAnswer> {
      record("acquire");
      const held = leases.get(req.key);
      const free = !held || held.expiresAt <= Date.now() || (req.replaceHolder !== undefined && req.replaceHolder !== "" && held.holder === req.replaceHolder);
      if (!free) return { acquired: false, holder: held.holder, token: held.token };
      const lease = { holder: req.holder, token: nextToken++, expiresAt: Date.now() + req.ttlMs };
      leases.set(req.key, lease);
      return { acquired: true, holder: lease.holder, token: lease.token };
    },
    async renew(req) {
      record("renew");
      const held = leases.get(req.key);
      if (refuse || !held || held.holder !== req.holder || held.token !== req.token) {
        throw new CallError("failedPrecondition", `lease ${req.key} is not held by ${req.holder}`);
      }
      held.expiresAt = Date.now() + req.ttlMs;
    },
    async release(req) {
      record("release");
      const held = leases.get(req.key);
      if (held && held.holder === req.holder && held.token === req.token) leases.delete(req.key);
    },
    async create(created, fencingToken) {
      record("create");
      return newBuild(created, fencingToken).id;
    },
    async update(id, fields: RecordFields, fencingToken) {
      record("update");
      const b = build(id);
      fenced(b, fencingToken);
      if (fields.status !== undefined) b.status = fields.status;
      if (fields.digest !== undefined) b.digest = fields.digest;
      if (fields.builderNode !== undefined) b.builderNode = fields.builderNode;
      if (fields.errorCode !== undefined) b.errorCode = fields.errorCode;
      if (fields.errorMessage !== undefined) b.errorMessage = fields.errorMessage;
    },
    async appendLogs(id, lines, fencingToken) {
      record("appendLogs");
      const b = build(id);
      fenced(b, fencingToken);
      for (const l of lines) b.logs.push({ ...l, seq: BigInt(b.logs.length + 1) });
    },
    async latest(imageKey) {
      const all = [...builds.values()].filter((b) => b.created.imageKey === imageKey);
      const last = all[all.length - 1];
      return last === undefined ? undefined : stored(last);
    },
    async get(id) {
      const b = builds.get(id);
      return b === undefined ? undefined : stored(b);
    },
    async *followLogs(id, signal) {
      let sent = 0;
      for (;;) {
        const b = build(id);
        if (b.logs.length > sent) {
          const batch = b.logs.slice(sent);
          sent = b.logs.length;
          yield batch;
        }
        if (finalStates.has(b.status) || signal.aborted) return;
        await changed();
      }
    },
    addBuild(imageKey, status) {
      const b = newBuild(
        {
          appId: "",
          imageKey,
          image: `cli-other:${imageKey}`,
          commit: "",
          treeHash: "",
          mode: "command",
          status,
          requester: "",
          source: { repository: "", ref: "", dir: "", authName: "" },
          containerfile: "Containerfile",
          args: [],
          target: "",
          platform: "",
        },
        0n,
      );
      queueMicrotask(wake);
      return b;
    },
    change(id, fields, lines = []) {
      const b = build(id);
      for (const text of lines) b.logs.push({ seq: BigInt(b.logs.length + 1), stream: "stdout", text, time: new Date() });
      Object.assign(b, fields);
      queueMicrotask(wake);
    },
    refuseRenewals() {
      refuse = true;
    },
    async until(predicate) {
      while (!predicate()) await changed();
    },
  };
}

/** How a fake build goes: the events to yield, given the order, its context and signal. */
export type FakeBuildScript = (order: BuildOrder, context: AsyncIterable<Uint8Array>, signal: AbortSignal) => AsyncIterable<ImageEventBody>;

/** The fake builder service: runs its script, records the orders and the context bytes it read. */
export interface FakeBuilder extends BuilderPort {
  readonly orders: BuildOrder[];
  readonly contextBytes: number[];
  script: FakeBuildScript;
  /** Thrown by `checkServable` when set. */
  refusal: Error | undefined;
}

/** A build that reads its context, logs a line, pushes and ends ready with `digest`. */
export function succeedingBuild(digest: string): FakeBuildScript {
  return async function* (order, context) {
    for await (const _ of context) {
      // read it all, as a builder does
    }
    yield { type: "started", image: order.image, mode: "command", builderNode: "", commit: order.commit };
    yield { type: "log", line: { seq: 0n, stream: "stdout", text: `building ${order.image.name}`, time: new Date() } };
    yield { type: "pushed", reference: order.image.reference, digest };
    yield { type: "ready", image: order.image.reference, digest, cached: false };
  };
}

/** Creates a fake builder that runs `script` for every build. */
export function createFakeBuilder(script: FakeBuildScript): FakeBuilder {
  const fake: FakeBuilder = {
    orders: [],
    contextBytes: [],
    script,
    refusal: undefined,
    async checkServable(_request: CapabilityRequest) {
      if (fake.refusal) throw fake.refusal;
    },
    build(order, context, signal) {
      fake.orders.push(order);
      const index = fake.contextBytes.push(0) - 1;
      async function* counted(): AsyncGenerator<Uint8Array> {
        for await (const chunk of context) {
          fake.contextBytes[index] = (fake.contextBytes[index] ?? 0) + chunk.length;
          yield chunk;
        }
      }
      return fake.script(order, counted(), signal);
    },
  };
  return fake;
}

/** A source service whose every context is one small chunk. */
export function createFakeSource(): SourcePort & { readonly contexts: string[] } {
  const contexts: string[] = [];
  return {
    contexts,
    async describe() {
      return { commit: "c".repeat(40), treeHash: "t".repeat(40), containerfile: "Containerfile" };
    },
    async *streamContext(_source, commit) {
      contexts.push(commit);
      yield new Uint8Array(512);
    },
  };
}

/** A resolver answering one fixed image, missing until `exists` is set. */
export function createFakeResolve(key = "k1"): { resolve: () => Promise<ResolvedImage>; exists: string | undefined; calls: number } {
  const state = {
    exists: undefined as string | undefined,
    calls: 0,
    resolve: async (): Promise<ResolvedImage> => {
      state.calls++;
      return {
        image: { key, name: `cli-app:${key}`, reference: `127.0.0.1:5000/cli-app:${key}` },
        commit: "c".repeat(40),
        treeHash: "t".repeat(40),
        containerfile: "Containerfile",
        exists: state.exists !== undefined,
        digest: state.exists ?? "",
      };
    },
  };
  return state;
}

/** Rejects, as a builder call does, with `canceled` once `signal` aborts (at once when it already has). */
export function untilStopped(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const stop = (): void => reject(new CallError("canceled", "the operation was aborted"));
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  });
}
