import assert from "node:assert/strict";
import { it } from "node:test";
import { createBuildMessageParser, type BuildMessage } from "./build-messages.js";

function parseAll(chunks: (string | Buffer)[]): BuildMessage[] {
  const parser = createBuildMessageParser();
  return [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
}

it("joins Docker's step text and its separate newline message into one line", () => {
  const out = parseAll(['{"stream":"Step 1/2 : FROM x"}\r\n', '{"stream":"\\n"}\r\n', '{"stream":" ---> abc\\n"}\r\n']);
  assert.deepEqual(out, [
    { type: "line", stream: "stdout", text: "Step 1/2 : FROM x" },
    { type: "line", stream: "stdout", text: " ---> abc" },
  ]);
});

it("parses JSON objects split across chunks and several objects in one chunk", () => {
  const out = parseAll(['{"aux":{"ID":"sha256:ab"}}\n{"str', 'eam":"Successfully built ab\\n"}\n']);
  assert.deepEqual(out, [
    { type: "imageId", id: "sha256:ab" },
    { type: "line", stream: "stdout", text: "Successfully built ab" },
  ]);
});

it("keeps a multi-byte character split between chunks intact", () => {
  const bytes = Buffer.from('{"stream":"caf\u00e9\\n"}\n');
  const cut = bytes.indexOf(0xc3) + 1;
  assert.deepEqual(parseAll([bytes.subarray(0, cut), bytes.subarray(cut)]), [{ type: "line", stream: "stdout", text: "caf\u00e9" }]);
});

it("reports Docker's error with its exit code from errorDetail", () => {
  const out = parseAll(['{"errorDetail":{"code":3,"message":"The command \'/bin/sh -c exit 3\' returned a non-zero code: 3"},"error":"x"}\r\n']);
  assert.deepEqual(out, [{ type: "error", message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3", exitCode: 3 }]);
});

it("reads the exit code from Podman's error message, which has no code field", () => {
  const out = parseAll(['{"errorDetail":{"message":"building at STEP \\"RUN exit 3\\": while running runtime: exit status 3\\n"},"error":"x"}\n']);
  assert.deepEqual(out, [{ type: "error", message: 'building at STEP "RUN exit 3": while running runtime: exit status 3', exitCode: 3 }]);
});

it("reports pull progress as system lines and flushes an unterminated line at the end", () => {
  const out = parseAll(['{"status":"Downloading","id":"abc","progress":"[==>  ]"}\n', '{"stream":"no newline"}']);
  assert.deepEqual(out, [
    { type: "line", stream: "system", text: "abc: Downloading [==>  ]" },
    { type: "line", stream: "stdout", text: "no newline" },
  ]);
});

it("passes text that is not JSON through as a system line", () => {
  assert.deepEqual(parseAll(["not json\n"]), [{ type: "line", stream: "system", text: "not json" }]);
});
