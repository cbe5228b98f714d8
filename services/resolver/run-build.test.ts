import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Secret } from "../../libs/secret/secret.js";
import { createFakeBuilder, createFakeMetadata, createFakeSource, succeedingBuild, untilStopped, type FakeBuildScript } from "../../test/resolver/fake-ports.js";
import { createBuildRecord } from "./build-record.js";
import { CallError } from "./call-error.js";
import type { ImageEvent, ImageSpec } from "./domain.js";
import { BuildFailedError, BuildPassesTimeoutError, LeaseLostError } from "./flow-errors.js";
import { newBuild } from "./new-build.js";
import { createOutageBudget } from "./outage-budget.js";
import { runBuild, type BuildPlan } from "./run-build.js";

const digest = `sha256:${"e".repeat(64)}`;
const image = { key: "k9", name: "cli-run:k9", reference: "127.0.0.1:5000/cli-run:k9" };
const spec: ImageSpec = {
  appId: "app_run_1",
  source: { repository: "https://example.com/acme/run.git", ref: "main", dir: "", authName: "", credentials: { username: "git", password: new Secret("git-pass-77"), privateKey: undefined } },
  containerfile: "",
  args: [{ name: "TOKEN", value: new Secret("tok-secret-1") }],
  target: "",
  platform: "",
  requester: "",
};

/** One run over fakes: the record in a fake metadata service, the events it emitted, and its outcome. */
async function run(script: FakeBuildScript, plan: Partial<BuildPlan> = {}, signal = AbortSignal.timeout(10_000)) {
  const metadata = createFakeMetadata();
  const builder = createFakeBuilder(script);
  const source = createFakeSource();
  const resolved = { image, commit: "a".repeat(40), treeHash: "t", containerfile: "Containerfile", exists: false, digest: "" };
  const record = await createBuildRecord({ builds: metadata, budget: createOutageBudget({ budgetMs: 1_000 }), token: 0n }, newBuild(spec, resolved, "delegate", []));
  const emitted: ImageEvent[] = [];
  const full: BuildPlan = { buildId: record.id, spec, image, commit: resolved.commit, treeHash: "t", containerfile: "Containerfile", registry: undefined, timeoutSecs: 60, knownSecrets: ["config-token-1"], ...plan };
  const outcome = await runBuild({ source, builder }, full, record, (e) => emitted.push(e), signal);
  return { outcome, emitted, stored: metadata.builds.get(record.id), builder, source };
}

describe("a build run", () => {
  test("streams the commit's context to the builder, records running, pushing and succeeded, and names the node", async () => {
    const { outcome, emitted, stored, builder, source } = await run(async function* (order, context, signal) {
      yield { type: "started", image: undefined, mode: "delegate", builderNode: "", commit: "" };
      yield { type: "started", image: undefined, mode: "delegate", builderNode: "node-3", commit: "" };
      yield* succeedingBuild(digest)(order, context, signal);
    });
    assert.equal(outcome.error, undefined);
    assert.ok(outcome.final.type === "ready");
    assert.deepEqual([outcome.final.image, outcome.final.digest, outcome.final.cached], [image.reference, digest, false]);
    assert.deepEqual(source.contexts, ["a".repeat(40)]);
    assert.deepEqual(builder.contextBytes, [512]);
    const started = emitted.find((e) => e.type === "started");
    assert.ok(started?.type === "started");
    assert.deepEqual([started.image, started.commit], [image, "a".repeat(40)], "the started event names the resolved image and commit");
    assert.deepEqual([stored?.status, stored?.digest, stored?.builderNode], ["succeeded", digest, "node-3"]);
  });

  test("an uploaded context is built from instead of the source service's", async () => {
    const { outcome, builder, source } = await run(succeedingBuild(digest), {
      context: async function* () {
        yield new Uint8Array(100);
        yield new Uint8Array(0);
        yield new Uint8Array(28);
      },
    });
    assert.equal(outcome.error, undefined);
    assert.deepEqual(source.contexts, []);
    assert.deepEqual(builder.contextBytes, [128]);
  });

  test("replaces every secret value with *** in relayed and stored lines, the log tail and the failure message", async () => {
    const { outcome, emitted, stored } = await run(async function* () {
      yield { type: "log", line: { seq: 0n, stream: "stdout", text: "echo tok-secret-1 git-pass-77 config-token-1", time: undefined } };
      throw new CallError("permissionDenied", "push failed with tok-secret-1");
    });
    assert.ok(outcome.error instanceof BuildFailedError);
    assert.deepEqual([outcome.error.buildId, outcome.error.code, outcome.error.message], ["b_1", "permissionDenied", "push failed with ***"]);
    assert.ok(outcome.final.type === "failed");
    assert.deepEqual([outcome.final.code, outcome.final.message, outcome.final.logTail], ["permission_denied", "push failed with ***", ["echo *** *** ***"]]);
    assert.deepEqual(emitted.flatMap((e) => (e.type === "log" ? [e.line.text] : [])), ["echo *** *** ***"]);
    assert.deepEqual(stored?.logs.map((l) => l.text), ["echo *** *** ***"]);
    assert.deepEqual([stored?.status, stored?.errorCode, stored?.errorMessage], ["failed", "permission_denied", "push failed with ***"]);
  });

  test("a stream reset from the builder that nobody asked for is unavailable: the builder may have stopped", async () => {
    const { outcome, stored } = await run(async function* () {
      yield* [];
      throw new CallError("canceled", "http/2 stream closed with error code CANCEL (0x8)", { connectionLost: true });
    });
    assert.ok(outcome.error instanceof BuildFailedError);
    assert.equal(outcome.error.code, "unavailable");
    assert.match(outcome.error.message, /^build b_1: the connection to the builder was lost \(http\/2 stream closed with error code CANCEL \(0x8\)\): the builder may have stopped; retry the build$/);
    assert.deepEqual([stored?.status, stored?.errorCode], ["failed", "unavailable"]);
  });

  test("a canceled call whose other end answered stays canceled", async () => {
    const { outcome, stored } = await run(async function* () {
      yield* [];
      throw new CallError("canceled", "build b_1 was canceled by CancelBuild");
    });
    assert.ok(outcome.error instanceof BuildFailedError);
    assert.deepEqual([outcome.error.code, outcome.error.message], ["canceled", "build b_1 was canceled by CancelBuild"]);
    assert.deepEqual([stored?.status, stored?.errorCode], ["canceled", "canceled"]);
  });

  test("a builder's hint of when to retry stays with the failure", async () => {
    const { outcome } = await run(async function* () {
      yield* [];
      throw new CallError("resourceExhausted", "the build queue is full", { retryAfterSecs: 10 });
    });
    assert.ok(outcome.error instanceof BuildFailedError);
    assert.deepEqual([outcome.error.code, outcome.error.retryAfterSecs], ["resourceExhausted", 10]);
  });

  test("a stop with a reason fails the build with that reason's code and message", async () => {
    const stop = new AbortController();
    const { outcome, stored, builder } = await run(async function* (_order, _context, signal) {
      yield { type: "started", image: undefined, mode: "delegate", builderNode: "", commit: "" };
      stop.abort(new LeaseLostError("build:k9", "renewal refused"));
      await untilStopped(signal);
    }, {}, stop.signal);
    assert.ok(outcome.error instanceof BuildFailedError);
    assert.deepEqual([outcome.error.code, outcome.error.message], ["aborted", "build lease build:k9 was lost: renewal refused"]);
    assert.deepEqual([stored?.status, stored?.errorCode], ["failed", "aborted"]);
    assert.equal(builder.orders.length, 1, "a build stopped here is not run again");
  });

  test("a stop during the pause before another pass ends the build as the stop says, without another pass", async () => {
    const stop = new AbortController();
    const { outcome, stored, builder } = await run(async function* () {
      yield* [];
      setImmediate(() => stop.abort());
      throw new CallError("aborted", "a conflict on the engine");
    }, {}, stop.signal);
    assert.ok(outcome.error instanceof BuildFailedError);
    assert.deepEqual([outcome.error.code, outcome.error.message], ["canceled", "build b_1 was canceled"]);
    assert.equal(builder.orders.length, 1);
    assert.deepEqual([stored?.status, stored?.errorCode], ["canceled", "canceled"]);
  });

  const removed = 'build of "cli-run:k9" was aborted: image sha256:' + "0".repeat(64) + " was removed from the container engine during the build; the build can run again";

  test("a pass the builder aborts (an image removed under Docker's cache lookup) runs again with the context streamed anew, and says so in the log", async () => {
    let passes = 0;
    const { outcome, stored, builder, source } = await run(async function* (order, context, signal) {
      passes++;
      if (passes === 1) {
        for await (const _ of context) void _;
        yield { type: "log", line: { seq: 0n, stream: "stdout", text: "Step 1/3 : FROM local/busybox:1", time: undefined } };
        throw new CallError("aborted", removed);
      }
      yield* succeedingBuild(digest)(order, context, signal);
    });
    assert.equal(outcome.error, undefined);
    assert.ok(outcome.final.type === "ready");
    assert.equal(builder.orders.length, 2);
    assert.deepEqual(builder.contextBytes, [512, 512], "each pass reads the whole context");
    assert.deepEqual(source.contexts, ["a".repeat(40), "a".repeat(40)]);
    assert.deepEqual(stored?.logs.map((l) => [l.stream, l.text]), [
      ["stdout", "Step 1/3 : FROM local/busybox:1"],
      ["system", `attempt 1 of 5 was aborted (${removed}): building again in 250 ms`],
      ["stdout", "building cli-run:k9"],
    ]);
    assert.deepEqual([stored?.status, stored?.digest], ["succeeded", digest]);
  });

  test("a build aborted on every pass fails after five, each pause twice the last, with the last pass's code and message", async () => {
    const { outcome, stored, builder } = await run(async function* () {
      yield* [];
      throw new CallError("aborted", removed);
    });
    assert.ok(outcome.error instanceof BuildFailedError);
    assert.deepEqual([outcome.error.code, outcome.error.message], ["aborted", removed]);
    assert.equal(builder.orders.length, 5);
    assert.deepEqual(stored?.logs.map((l) => l.text), [250, 500, 1000, 2000].map((ms, i) => `attempt ${i + 1} of 5 was aborted (${removed}): building again in ${ms} ms`));
    assert.deepEqual([stored?.status, stored?.errorCode, stored?.errorMessage], ["failed", "aborted", removed]);
  });

  test("passes run again stop when the build's timeout is spent since the first began, pauses included", async () => {
    // 1 s: the first pass aborts at once, the second after its 250 ms pause, the third after 500 more; the 1000 ms pause before a fourth outlasts the timeout.
    const { outcome, stored, builder } = await run(async function* () {
      yield* [];
      throw new CallError("aborted", removed);
    }, { timeoutSecs: 1 });
    assert.ok(outcome.error instanceof BuildFailedError);
    const message = "build b_1 timed out after 1s (builder.build_timeout_secs) in 3 passes and was stopped";
    assert.deepEqual([outcome.error.code, outcome.error.message], ["deadlineExceeded", message]);
    assert.equal(builder.orders.length, 3);
    assert.deepEqual(builder.orders.map((o) => o.timeoutSecs), [1, 1, 1], "the builder still bounds each pass by the whole timeout");
    assert.deepEqual(stored?.logs.map((l) => l.text), [250, 500, 1000].map((ms, i) => `attempt ${i + 1} of 5 was aborted (${removed}): building again in ${ms} ms`));
    assert.deepEqual([stored?.status, stored?.errorCode, stored?.errorMessage], ["failed", "deadline_exceeded", message]);
    assert.ok(outcome.final.type === "failed");
    assert.deepEqual([outcome.final.code, outcome.final.message], ["deadline_exceeded", message]);
  });

  test("a pass run again is stopped where the build's timeout ends, not a whole timeout later", async () => {
    // The fake builder keeps no timeout of its own: without the resolver's, the second pass would wait for the test's 10 s stop.
    const passSignals: AbortSignal[] = [];
    const { outcome, builder } = await run(async function* (_order, _context, signal) {
      yield* [];
      passSignals.push(signal);
      if (passSignals.length === 1) throw new CallError("aborted", removed);
      await untilStopped(signal);
    }, { timeoutSecs: 1 });
    assert.ok(outcome.error instanceof BuildFailedError);
    assert.deepEqual([outcome.error.code, outcome.error.message], ["deadlineExceeded", "build b_1 timed out after 1s (builder.build_timeout_secs) in 2 passes and was stopped"]);
    assert.equal(builder.orders.length, 2);
    assert.equal(passSignals[1]?.aborted, true, "the second pass's call was stopped");
    assert.ok(passSignals[1]?.reason instanceof BuildPassesTimeoutError);
  });

  test("a timeout of 0 (the builder's default) sets no deadline over the passes", async () => {
    let passes = 0;
    const { outcome } = await run(async function* (order, context, signal) {
      passes++;
      if (passes < 3) throw new CallError("aborted", removed);
      yield* succeedingBuild(digest)(order, context, signal);
    }, { timeoutSecs: 0 });
    assert.equal(outcome.error, undefined);
    assert.equal(passes, 3);
  });

  test("a failure of any other code is not run again", async () => {
    const { outcome, builder } = await run(async function* () {
      yield* [];
      throw new CallError("failedPrecondition", 'build of "cli-run:k9" failed (exit code 1): The command \'/bin/sh -c false\' returned a non-zero code: 1');
    });
    assert.equal(outcome.error?.code, "failedPrecondition");
    assert.equal(builder.orders.length, 1);
  });
});
