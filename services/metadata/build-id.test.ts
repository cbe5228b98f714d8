import assert from "node:assert/strict";
import { test } from "node:test";
import { isBuildId, newBuildId } from "./build-id.js";

test("makes ids that sort by creation, even within one millisecond", () => {
  const ids = [newBuildId(1000), newBuildId(1000), newBuildId(1000), newBuildId(999), newBuildId(2000)];
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.ok(isBuildId(id), id);
});
