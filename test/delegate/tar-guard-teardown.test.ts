import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { confineContext } from "../../services/builder/context-confiner.js";
import { tarHeader } from "./fixtures/openrun-request.js";

test("a confined context destroyed by its reader while entries still arrive stops quietly and releases its input", async () => {
  const input = new PassThrough();
  const out = confineContext(input);
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(err);
  process.on("uncaughtException", onUncaught);
  try {
    input.write(tarHeader("first", 0));
    await new Promise((resolve) => out.once("data", resolve));
    // The reader goes away (a delegated build refused by its node), as the spool's dispose does.
    out.destroy();
    for (let i = 0; i < 50 && !input.destroyed; i++) {
      input.write(tarHeader(`f${i}`, 0));
      await tick();
    }
    assert.deepEqual(uncaught, []);
    assert.equal(input.destroyed, true, "the input is released");
  } finally {
    process.off("uncaughtException", onUncaught);
    input.destroy();
  }
});
