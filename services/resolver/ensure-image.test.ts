import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SecretArgUnsupportedError } from "../../libs/build/capability-check.js";
import { DomainError } from "../../libs/errors/domain-error.js";
import { Secret } from "../../libs/secret/secret.js";
import {
  createFakeBuilder,
  createFakeMetadata,
  createFakeResolve,
  createFakeSource,
  succeedingBuild,
  type FakeBuildScript,
  untilStopped,
} from "../../test/resolver/fake-ports.js";
import { CallError } from "./call-error.js";
import type { ImageEvent, ImageSpec } from "./domain.js";
import { createEnsureImage, type EnsureImageDeps } from "./ensure-image.js";
import { holderIdentity } from "./holder-identity.js";

const limit = { timeout: 30_000 };
const digest = `sha256:${"d".repeat(64)}`;

const spec: ImageSpec = {
  appId: "app_unit_1",
  source: { repository: "https://example.com/acme/shop.git", ref: "main", dir: "", authName: "", credentials: undefined },
  containerfile: "",
  args: [{ name: "MODE", value: "prod" }],
  target: "",
  platform: "",
  requester: "tester",
};

/** The flow over in-memory fakes of the source, builder and metadata services. */
function harness(script: FakeBuildScript = succeedingBuild(digest), opts: { leaseTtlMs?: number } = {}) {
  const metadata = createFakeMetadata();
  const builder = createFakeBuilder(script);
  const source = createFakeSource();
  const image = createFakeResolve();
  const deps: EnsureImageDeps = {
    ports: { source, builder, metadata },
    resolve: image.resolve,
    registry: async () => undefined,
    holder: holderIdentity("host-unit", process.pid, "unit0001"),
    mode: "command",
    timeoutSecs: 60,
    leaseTtlMs: opts.leaseTtlMs ?? 60_000,
    outageBudgetMs: 1_000,
  };
  return { metadata, builder, source, image, flow: createEnsureImage(deps) };
}

/** Every event of one call, and the error it ended with. */
async function collect(events: AsyncIterable<ImageEvent>): Promise<{ events: ImageEvent[]; error: unknown }> {
  const out: ImageEvent[] = [];
  try {
    for await (const e of events) out.push(e);
    return { events: out, error: undefined };
  } catch (error) {
    return { events: out, error };
  }
}

/** A promise and its resolver. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const types = (events: readonly ImageEvent[]): string[] => events.map((e) => e.type);

describe("EnsureImage flow", () => {
  test("answers an existing image with one cached Ready, without a lease, a record or a build", limit, async () => {
    const h = harness();
    h.image.exists = digest;
    const { events, error } = await collect(h.flow(spec, false, AbortSignal.timeout(10_000)));
    assert.equal(error, undefined);
    assert.deepEqual(events.map(({ time: _, ...e }) => e), [{ type: "ready", buildId: "", image: "127.0.0.1:5000/cli-app:k1", digest, cached: true }]);
    assert.deepEqual(h.metadata.calls, []);
    assert.equal(h.builder.orders.length, 0);
  });

  test("two concurrent callers for one image cause one build, and both get its events and outcome", limit, async () => {
    const started = gate();
    const go = gate();
    const h = harness(async function* (order, context, signal) {
      started.open();
      await go.promise;
      yield* succeedingBuild(digest)(order, context, signal);
    });
    const first = collect(h.flow(spec, false, AbortSignal.timeout(10_000)));
    await started.promise;
    const second = collect(h.flow(spec, false, AbortSignal.timeout(10_000)));
    go.open();
    const [a, b] = await Promise.all([first, second]);
    assert.equal(h.builder.orders.length, 1);
    assert.equal(a.error, undefined);
    assert.equal(b.error, undefined);
    assert.deepEqual(types(a.events), ["started", "log", "pushed", "ready"]);
    assert.deepEqual(b.events, a.events, "the second caller gets the same events from the start");
    const ready = a.events.at(-1);
    assert.ok(ready?.type === "ready");
    assert.deepEqual([ready.digest, ready.cached], [digest, false]);
    const build = [...h.metadata.builds.values()][0];
    assert.equal(build?.status, "succeeded");
    assert.equal(build?.digest, digest);
    assert.equal(build?.created.requester, "tester");
    assert.deepEqual(build?.logs.map((l) => l.text), ["building cli-app:k1"]);
    assert.equal(h.metadata.leases.size, 0, "the lease is released");
    assert.equal(h.metadata.calls.filter((c) => c === "acquire").length, 1);
    await h.flow.drain();
  });

  test("follows the build another process runs while it holds the lease, and builds nothing itself", limit, async () => {
    const h = harness();
    h.metadata.leases.set("build:k1", { holder: "host-other/4242/other001", token: 7n, expiresAt: Date.now() + 60_000 });
    const remote = h.metadata.addBuild("k1", "running");
    h.metadata.change(remote.id, {}, ["step 1/2"]);
    const events: ImageEvent[] = [];
    const it = h.flow(spec, false, AbortSignal.timeout(10_000))[Symbol.asyncIterator]();
    while (!events.some((e) => e.type === "log")) {
      const next = await it.next();
      if (next.done === true) assert.fail("the stream ended before the followed build's first line");
      events.push(next.value);
    }
    h.metadata.change(remote.id, { status: "succeeded", digest }, ["step 2/2"]);
    for (let next = await it.next(); next.done !== true; next = await it.next()) events.push(next.value);
    assert.deepEqual(types(events), ["started", "log", "log", "ready"]);
    assert.ok(events.every((e) => e.buildId === remote.id));
    assert.deepEqual(
      events.flatMap((e) => (e.type === "log" ? [e.line.text] : [])),
      ["step 1/2", "step 2/2"],
    );
    const ready = events.at(-1);
    assert.ok(ready?.type === "ready");
    assert.deepEqual([ready.digest, ready.cached], [digest, false]);
    assert.equal(h.builder.orders.length, 0);
    assert.equal(h.metadata.builds.size, 1, "no record of its own");
    assert.equal(h.metadata.leases.get("build:k1")?.holder, "host-other/4242/other001", "the other process keeps its lease");
  });

  test("takes the build over when the build it follows is abandoned and its lease let go", limit, async () => {
    const h = harness();
    h.metadata.leases.set("build:k1", { holder: "host-other/4242/other001", token: 7n, expiresAt: Date.now() + 60_000 });
    const remote = h.metadata.addBuild("k1", "running");
    const events: ImageEvent[] = [];
    const it = h.flow(spec, false, AbortSignal.timeout(10_000))[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done === true) assert.fail("the stream ended before the followed build started");
    events.push(first.value);
    h.metadata.leases.delete("build:k1");
    h.metadata.change(remote.id, { status: "abandoned" });
    for (let next = await it.next(); next.done !== true; next = await it.next()) events.push(next.value);
    assert.deepEqual(types(events), ["started", "log", "started", "log", "pushed", "ready"]);
    const notice = events[1];
    assert.ok(notice?.type === "log");
    assert.equal(notice.line.text, `build ${remote.id} in another process ended abandoned; taking it over`);
    assert.equal(h.builder.orders.length, 1, "built here once");
    const own = h.builder.orders[0]?.buildId;
    assert.notEqual(own, remote.id);
    assert.equal(h.metadata.builds.get(own ?? "")?.status, "succeeded");
    await h.flow.drain();
    assert.equal(h.metadata.leases.size, 0);
  });

  test("a failed build leaves its record failed with the builder's code and message, and releases the lease", limit, async () => {
    const h = harness(async function* (order) {
      yield { type: "started", image: order.image, mode: "command", builderNode: "", commit: order.commit };
      yield { type: "log", line: { seq: 0n, stream: "stderr", text: "RUN make: exit status 2", time: new Date() } };
      throw new CallError("failedPrecondition", 'build step 2 "RUN make" failed: exit status 2');
    });
    const { events, error } = await collect(h.flow(spec, false, AbortSignal.timeout(10_000)));
    assert.ok(error instanceof DomainError);
    assert.equal(error.code, "failedPrecondition");
    assert.equal(error.message, 'build step 2 "RUN make" failed: exit status 2');
    const failed = events.at(-1);
    assert.ok(failed?.type === "failed");
    assert.deepEqual([failed.code, failed.message, failed.logTail], ["failed_precondition", 'build step 2 "RUN make" failed: exit status 2', ["RUN make: exit status 2"]]);
    const build = [...h.metadata.builds.values()][0];
    assert.equal(build?.status, "failed");
    assert.equal(build?.errorCode, "failed_precondition");
    assert.equal(build?.errorMessage, 'build step 2 "RUN make" failed: exit status 2');
    await h.flow.drain();
    assert.equal(h.metadata.leases.size, 0, "the lease is released");
    assert.equal(h.metadata.calls.at(-1), "release", "released after the outcome was written");
  });

  test("the last caller leaving stops the build, records it canceled and releases the lease", limit, async () => {
    const running = gate();
    let builderSignal: AbortSignal | undefined;
    const h = harness(async function* (order, _context, signal) {
      builderSignal = signal;
      yield { type: "started", image: order.image, mode: "command", builderNode: "", commit: order.commit };
      running.open();
      await untilStopped(signal);
    });
    const caller = new AbortController();
    const call = collect(h.flow(spec, false, caller.signal));
    await running.promise;
    caller.abort();
    const { events, error } = await call;
    assert.equal(error, undefined, "a caller that left just stops reading");
    assert.deepEqual(types(events), ["started"]);
    await h.flow.drain();
    assert.equal(builderSignal?.aborted, true, "the builder call is stopped");
    const build = [...h.metadata.builds.values()][0];
    assert.equal(build?.status, "canceled");
    assert.equal(build?.errorCode, "canceled");
    assert.equal(h.metadata.leases.size, 0, "the lease is released");
  });

  test("a request the builder's mode cannot serve is refused before any lease or record", limit, async () => {
    const h = harness();
    h.builder.refusal = new SecretArgUnsupportedError("command", "TOKEN");
    const secretSpec: ImageSpec = { ...spec, args: [{ name: "TOKEN", value: new Secret("hunter22") }] };
    const { events, error } = await collect(h.flow(secretSpec, false, AbortSignal.timeout(10_000)));
    assert.ok(error instanceof DomainError);
    assert.equal(error.code, "failedPrecondition");
    assert.equal(error.message, "secret build arg TOKEN is not supported by the command mode: docker and podman record build arg values in the image history");
    assert.deepEqual(types(events), ["failed"]);
    assert.deepEqual(h.metadata.calls, []);
    assert.equal(h.builder.orders.length, 0);
  });

  test("a lease lost during the build fails it with aborted, and its former holder offers the release fenced by its own token", limit, async () => {
    const running = gate();
    const h = harness(
      async function* (order, _context, signal) {
        yield { type: "started", image: order.image, mode: "command", builderNode: "", commit: order.commit };
        running.open();
        await untilStopped(signal);
      },
      { leaseTtlMs: 3_000 },
    );
    const call = collect(h.flow(spec, false, AbortSignal.timeout(10_000)));
    await running.promise;
    h.metadata.refuseRenewals();
    const { events, error } = await call;
    assert.ok(error instanceof DomainError);
    assert.equal(error.code, "aborted");
    assert.equal(error.message, "build lease build:k1 was lost: renewal refused: lease build:k1 is not held by host-unit/" + process.pid + "/unit0001");
    const failed = events.at(-1);
    assert.ok(failed?.type === "failed");
    assert.equal(failed.code, "aborted");
    await h.flow.drain();
    assert.equal(h.metadata.calls.filter((c) => c === "release").length, 1);
    assert.equal([...h.metadata.builds.values()][0]?.status, "failed");
  });

  test("a secret arg value never reaches the build record", limit, async () => {
    const h = harness();
    const secretSpec: ImageSpec = { ...spec, args: [{ name: "TOKEN", value: new Secret("hunter22") }, { name: "ECHO", value: "x-hunter22-x" }] };
    const { error } = await collect(h.flow(secretSpec, false, AbortSignal.timeout(10_000)));
    assert.equal(error, undefined);
    const build = [...h.metadata.builds.values()][0];
    assert.deepEqual(build?.created.args, [
      { name: "TOKEN", value: "", secret: true },
      { name: "ECHO", value: "x-***-x", secret: false },
    ]);
    const order = h.builder.orders[0];
    assert.ok(order?.spec.args[0]?.value instanceof Secret, "the builder gets the value, still wrapped");
  });
});
