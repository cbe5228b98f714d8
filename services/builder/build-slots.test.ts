import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createBuildSlots } from "./build-slots.js";

describe("build slots", () => {
  it("runs up to capacity at once and queues the rest in order", async () => {
    const slots = createBuildSlots({ capacity: 1, maxWaitSecs: 30 });
    const first = await slots.acquire(new AbortController().signal, () => assert.fail("first must not wait"));
    const positions: number[][] = [[], []];
    const second = slots.acquire(new AbortController().signal, (p) => positions[0]?.push(p));
    const third = slots.acquire(new AbortController().signal, (p) => positions[1]?.push(p));
    assert.equal(slots.running, 1);
    assert.equal(slots.queued, 2);
    first.release();
    const s2 = await second;
    assert.deepEqual(positions, [[1], [2, 1]]);
    s2.release();
    (await third).release();
    assert.equal(slots.running, 0);
  });

  it("fails with resource exhausted after the maximum wait", async () => {
    const slots = createBuildSlots({ capacity: 1, maxWaitSecs: 0.05 });
    const held = await slots.acquire(new AbortController().signal, () => {});
    await assert.rejects(slots.acquire(new AbortController().signal, () => {}), {
      code: "resourceExhausted",
      message: "no build slot became free within 0.05s (system.max_concurrent_builds = 1): retry later or raise the limit",
    });
    assert.equal(slots.queued, 0);
    held.release();
  });

  it("leaves the queue when the caller cancels, and later callers move up", async () => {
    const slots = createBuildSlots({ capacity: 1, maxWaitSecs: 30 });
    const held = await slots.acquire(new AbortController().signal, () => {});
    const ac = new AbortController();
    const canceled = slots.acquire(ac.signal, () => {});
    const seen: number[] = [];
    const later = slots.acquire(new AbortController().signal, (p) => seen.push(p));
    ac.abort();
    await assert.rejects(canceled, { code: "canceled", message: "build canceled while waiting for a build slot" });
    assert.deepEqual(seen, [2, 1]);
    held.release();
    (await later).release();
    assert.equal(slots.running, 0);
  });

  it("releasing twice frees one slot only", async () => {
    const slots = createBuildSlots({ capacity: 2, maxWaitSecs: 30 });
    const a = await slots.acquire(new AbortController().signal, () => {});
    await slots.acquire(new AbortController().signal, () => {});
    a.release();
    a.release();
    assert.equal(slots.running, 1);
  });

  it("refuses a caller at once with resource exhausted and a retry hint when max_queue builds already wait", async () => {
    const slots = createBuildSlots({ capacity: 1, maxWaitSecs: 30, maxQueue: 2, retryAfterSecs: 7 });
    const held = await slots.acquire(new AbortController().signal, () => {});
    const waiting = [slots.acquire(new AbortController().signal, () => {}), slots.acquire(new AbortController().signal, () => {})];
    await assert.rejects(slots.acquire(new AbortController().signal, () => {}), {
      code: "resourceExhausted",
      retryAfterSecs: 7,
      message: "the build queue is full: 2 builds wait for 1 slot (builder.max_queue = 2): retry in 7s or on another replica",
    });
    assert.equal(slots.queued, 2);
    held.release();
    (await waiting[0])?.release();
    (await waiting[1])?.release();
    assert.equal(slots.running, 0);
  });
});
