import assert from "node:assert/strict";
import { test } from "node:test";
import { droppedMarkerText, storableLineText } from "./log-line-text.js";

test("keeps a short line as it is and replaces NUL characters", () => {
  assert.equal(storableLineText("hello"), "hello");
  assert.equal(storableLineText("a\u0000b"), "a\uFFFDb");
});

test("cuts a long line on a character boundary and says how much it cut", () => {
  const out = storableLineText("€".repeat(100), 128);
  assert.ok(Buffer.byteLength(out) <= 128 + 60);
  assert.ok(!out.includes("\uFFFD"));
  assert.match(out, /^€+ … \[line truncated: 300 bytes, kept the first 64 bytes\]$/);
});

test("words the dropped-lines marker in singular and plural", () => {
  assert.equal(droppedMarkerText(1, 5), "[1 log line dropped: this build reached the limit of 5 lines (system.max_log_lines_per_build)]");
  assert.match(droppedMarkerText(3, 5), /^\[3 log lines dropped/);
});
