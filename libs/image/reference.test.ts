import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidReferenceError } from "./errors.js";
import { formatReference, parseReference } from "./reference.js";

describe("parseReference", () => {
  const valid: Array<[string, ReturnType<typeof parseReference>]> = [
    ["cli-app:0123456789abcdef", { domain: undefined, path: "cli-app", tag: "0123456789abcdef", digest: undefined }],
    ["localhost/a/b", { domain: "localhost", path: "a/b", tag: undefined, digest: undefined }],
    ["127.0.0.1:5000/p/cli-x:t1", { domain: "127.0.0.1:5000", path: "p/cli-x", tag: "t1", digest: undefined }],
    ["ghcr.io/org/app__x.y--z:v1.2_3", { domain: "ghcr.io", path: "org/app__x.y--z", tag: "v1.2_3", digest: undefined }],
    [`r.example.com/a@sha256:${"a".repeat(64)}`, { domain: "r.example.com", path: "a", tag: undefined, digest: `sha256:${"a".repeat(64)}` }],
    [`a:b@sha256:${"0".repeat(64)}`, { domain: undefined, path: "a", tag: "b", digest: `sha256:${"0".repeat(64)}` }],
    ["my-registry:5000/x", { domain: "my-registry:5000", path: "x", tag: undefined, digest: undefined }],
  ];
  for (const [text, expected] of valid) {
    it(`accepts ${text} and formats it back unchanged`, () => {
      const parsed = parseReference(text);
      assert.deepEqual(parsed, expected);
      assert.equal(formatReference(parsed), text);
    });
  }

  const invalid: Array<[string, RegExp]> = [
    ["", /got an empty string/],
    ["https://ghcr.io/a", /expected no scheme/],
    ["Upper/case", /path component "Upper" must be lower-case/],
    ["a/b:", /tag "" must be 1 to 128/],
    ["a:-x", /tag "-x" must be 1 to 128/],
    [`a:${"t".repeat(129)}`, /tag "t{129}" must be/],
    ["a@sha256:abc", /digest "sha256:abc" is not algorithm:hex/],
    ["host:99999/a", /port "99999" of domain "host:99999"/],
    ["-bad.io/a", /domain "-bad.io" must be/],
    ["a//b", /path component "" must be/],
    ["a___b", /path component "a___b"/],
    [":tag", /expected a repository name/],
    [`${"a".repeat(256)}`, /256 characters long, at most 255/],
  ];
  for (const [text, message] of invalid) {
    it(`rejects ${JSON.stringify(text.slice(0, 30))} with invalidArgument naming the reference`, () => {
      assert.throws(() => parseReference(text), (err: unknown) => {
        assert.ok(err instanceof InvalidReferenceError);
        assert.equal(err.code, "invalidArgument");
        assert.equal(err.reference, text);
        assert.match(err.message, /^image reference ".*" is not valid: /);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
