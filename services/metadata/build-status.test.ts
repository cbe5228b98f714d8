import assert from "node:assert/strict";
import { test } from "node:test";
import { buildStatuses, type BuildStatus } from "../../libs/db/records.js";
import { checkTransition } from "./build-status.js";
import { IllegalTransitionError } from "./errors.js";

const legal: readonly [BuildStatus, BuildStatus][] = [
  ["queued", "running"], ["queued", "canceled"], ["queued", "failed"], ["queued", "abandoned"],
  ["running", "pushing"], ["running", "succeeded"], ["running", "failed"], ["running", "canceled"], ["running", "abandoned"],
  ["pushing", "succeeded"], ["pushing", "failed"], ["pushing", "canceled"], ["pushing", "abandoned"],
  ["queued", "queued"], ["running", "running"], ["pushing", "pushing"],
];

test("allows exactly the life cycle's transitions", () => {
  for (const from of buildStatuses) {
    for (const to of buildStatuses) {
      const ok = legal.some(([f, t]) => f === from && t === to);
      if (ok) assert.doesNotThrow(() => checkTransition("b_1", from, to), `${from} -> ${to}`);
      else assert.throws(() => checkTransition("b_1", from, to), IllegalTransitionError, `${from} -> ${to}`);
    }
  }
});

test("names the build and both states when refusing", () => {
  assert.throws(() => checkTransition("b_9", "succeeded", "running"), (err: unknown) => {
    assert.ok(err instanceof IllegalTransitionError);
    assert.equal(err.code, "failedPrecondition");
    assert.equal(err.message, "build b_9 cannot go from succeeded to running");
    return true;
  });
});
