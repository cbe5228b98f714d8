import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { confinedRelativePath } from "./relative-path.js";

describe("confined relative paths", () => {
  const good: Array<[string, string]> = [
    ["", ""],
    [".", ""],
    ["app", "app"],
    ["./app//web/", "app/web"],
    ["docker/Containerfile", "docker/Containerfile"],
    ["a..b/file", "a..b/file"],
  ];
  for (const [input, expected] of good) {
    it(`accepts "${input}" as "${expected}"`, () => assert.equal(confinedRelativePath("dir", input), expected));
  }

  const bad: Array<[string, string]> = [
    ["/etc/passwd", 'containerfile "/etc/passwd" is not valid: expected a relative path, not an absolute one'],
    ["../secret", 'containerfile "../secret" is not valid: it must not contain .. segments'],
    ["app/../../x", 'containerfile "app/../../x" is not valid: it must not contain .. segments'],
    ["app\\..\\x", 'containerfile "app\\..\\x" is not valid: expected a relative path with / separators'],
    ["a\0b", 'containerfile "a\\0b" is not valid: it contains a NUL byte'],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)} with invalid argument`, () =>
      assert.throws(() => confinedRelativePath("containerfile", input), { code: "invalidArgument", message }));
  }
});
