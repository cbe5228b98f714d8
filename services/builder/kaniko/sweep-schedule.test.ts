import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { SweepResult } from "./kaniko-sweeper.js";
import { scheduleSweeps, type LeaseCheck } from "./sweep-schedule.js";

const none: SweepResult = { jobs: [], secrets: [] };

// The schedule's timers are unref'd (background work never holds a process
// open); this keeps the test process running while they are due.
let keepAlive: NodeJS.Timeout;
before(() => { keepAlive = setInterval(() => undefined, 1000); });
after(() => clearInterval(keepAlive));

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

test("the first pass waits for ready, each build id is looked up once per pass, and passes repeat after the interval", async () => {
  const ready = deferred();
  const lookups: string[] = [];
  const passes: string[][] = [];
  const second = deferred();
  const schedule = scheduleSweeps({
    ready: () => ready.promise,
    isLeaseAlive: async (id) => { lookups.push(id); return id === "live"; },
    sweep: async (check: LeaseCheck) => {
      const answers = [await check("dead"), await check("live"), await check("dead"), await check("live")];
      passes.push(answers.map(String));
      if (passes.length === 2) second.resolve();
      return none;
    },
    intervalMs: 1,
    signal: new AbortController().signal,
  });
  try {
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(passes, [], "no pass before ready");
    ready.resolve();
    await second.promise;
    assert.deepEqual(passes.slice(0, 2), [["false", "true", "false", "true"], ["false", "true", "false", "true"]]);
    assert.deepEqual(lookups.slice(0, 4), ["dead", "live", "dead", "live"], "two lookups per pass, not four");
  } finally {
    await schedule.stop();
  }
});

test("a failed pass is reported and retried, and the next success is reported too", async () => {
  const errors: string[] = [];
  const swept = deferred<SweepResult>();
  let calls = 0;
  const schedule = scheduleSweeps({
    isLeaseAlive: async () => false,
    sweep: async () => {
      calls += 1;
      if (calls === 1) throw new Error("kubernetes list jobs failed: 503");
      return { jobs: ["bp-a"], secrets: ["bp-a-docker"] };
    },
    intervalMs: 60_000,
    retryMs: 1,
    signal: new AbortController().signal,
    onError: (e) => errors.push((e as Error).message),
    onSwept: (r) => swept.resolve(r),
  });
  try {
    assert.deepEqual(await swept.promise, { jobs: ["bp-a"], secrets: ["bp-a-docker"] });
    assert.deepEqual(errors, ["kubernetes list jobs failed: 503"]);
  } finally {
    await schedule.stop();
  }
});

test("after stop no object is judged dead: the pass in progress ends without an error report and no pass follows", async () => {
  const started = deferred();
  const gate = deferred();
  const outcome: string[] = [];
  let calls = 0;
  const errors: unknown[] = [];
  const schedule = scheduleSweeps({
    isLeaseAlive: async () => false,
    sweep: async (check) => {
      calls += 1;
      started.resolve();
      await gate.promise;
      try {
        await check("dead");
        outcome.push("judged");
      } catch (e) {
        outcome.push((e as Error).name);
        throw e;
      }
      return none;
    },
    intervalMs: 1,
    signal: new AbortController().signal,
    onError: (e) => errors.push(e),
  });
  await started.promise;
  const stopped = schedule.stop();
  gate.resolve();
  await stopped;
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(outcome, ["AbortError"]);
  assert.deepEqual(errors, []);
  assert.equal(calls, 1);
});

test("aborting the server's signal before ready means no pass ever runs", async () => {
  const ac = new AbortController();
  let calls = 0;
  const schedule = scheduleSweeps({
    ready: () => new Promise(() => undefined),
    isLeaseAlive: async () => false,
    sweep: async () => { calls += 1; return none; },
    intervalMs: 1,
    signal: ac.signal,
  });
  await new Promise((r) => setTimeout(r, 5));
  ac.abort();
  await schedule.stop();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(calls, 0);
});
