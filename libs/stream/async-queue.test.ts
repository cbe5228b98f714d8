import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createAsyncQueue } from "./async-queue.js";

describe("async queue", () => {
  it("yields pushed values in order, including those pushed before iteration", async () => {
    const q = createAsyncQueue<number>();
    q.push(1);
    setTimeout(() => {
      q.push(2);
      q.push(3);
      q.close();
    }, 5);
    const seen: number[] = [];
    for await (const v of q) seen.push(v);
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it("delivers buffered values before the failure", async () => {
    const q = createAsyncQueue<string>();
    q.push("a");
    q.fail(new Error("boom"));
    q.push("ignored");
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const v of q) seen.push(v);
      })(),
      { message: "boom" },
    );
    assert.deepEqual(seen, ["a"]);
  });
});
