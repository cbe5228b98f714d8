import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertRegistryAllowed, parsePushReference, RegistryNotAllowedError } from "./push-reference.js";

const shape = "expected <registry-host>/<repository>:<tag>, such as registry.example.com:5000/project/cli-app:0123456789abcdef";

describe("parsePushReference", () => {
  const accepted: Array<[string, { host: string; repository: string; tag: string }]> = [
    ["registry.example.com:5000/project/cli-app:0123456789abcdef", { host: "registry.example.com:5000", repository: "project/cli-app", tag: "0123456789abcdef" }],
    ["127.0.0.1:5000/cli-app:1", { host: "127.0.0.1:5000", repository: "cli-app", tag: "1" }],
    ["localhost:5000/a/b__c/d-e:v1.2_3", { host: "localhost:5000", repository: "a/b__c/d-e", tag: "v1.2_3" }],
    ["ghcr.io/org/app:latest", { host: "ghcr.io", repository: "org/app", tag: "latest" }],
  ];
  for (const [text, expected] of accepted) {
    it(`accepts ${text}`, () => assert.deepEqual(parsePushReference(text), expected));
  }

  const refused: Array<[string, string]> = [
    ["busybox:latest", `it has no registry host (the first component needs a "." or ":port"); ${shape}`],
    ["cli-app:0123456789abcdef", `it has no registry host (the first component needs a "." or ":port"); ${shape}`],
    ["team/app:1", `it has no registry host (the first component needs a "." or ":port"); ${shape}`],
    ["registry.example.com/app", `it has no tag; ${shape}`],
    [`registry.example.com/app@sha256:${"a".repeat(64)}`, `a digest cannot be pushed to; ${shape}`],
    ["docker.io/library/busybox:latest", `registry host "docker.io" is one the engine stores under short names, so the tag would replace a local image; ${shape}`],
    ["index.docker.io/library/busybox:latest", `registry host "index.docker.io" is one the engine stores under short names, so the tag would replace a local image; ${shape}`],
    ["localhost/cli-app:1", `registry host "localhost" is one the engine stores under short names, so the tag would replace a local image; ${shape}`],
    ["registry.example.com/App:1", `path component "App" must be lower-case letters and digits, separated by one ".", "_", "__" or dashes; ${shape}`],
    ["registry.example.com/a/../b:1", `path component ".." must be lower-case letters and digits, separated by one ".", "_", "__" or dashes; ${shape}`],
    ["registry.example.com/a:1?x=/json", `path component "a:1?x=" must be lower-case letters and digits, separated by one ".", "_", "__" or dashes; ${shape}`],
    ["registry.example.com/a:1?x=json", `tag "1?x=json" must be 1 to 128 of [A-Za-z0-9_.-], not starting with . or -; ${shape}`],
    ["registry.example.com/a:-x", `tag "-x" must be 1 to 128 of [A-Za-z0-9_.-], not starting with . or -; ${shape}`],
    ["registry.example.com/a#b:1", `path component "a#b" must be lower-case letters and digits, separated by one ".", "_", "__" or dashes; ${shape}`],
    ["", `expected [domain/]path[:tag][@digest], got an empty string; ${shape}`],
  ];
  for (const [text, expected] of refused) {
    it(`refuses ${JSON.stringify(text)} with invalidArgument naming it`, () => {
      assert.throws(() => parsePushReference(text), (err: Error & { code?: string }) => {
        assert.equal(err.code, "invalidArgument");
        assert.equal(err.message, `image reference ${JSON.stringify(text)} is not valid: ${expected}`);
        return true;
      });
    });
  }
});

describe("assertRegistryAllowed", () => {
  it("allows any host when the list is empty", () => assert.doesNotThrow(() => assertRegistryAllowed("anything.example:1", [])));
  it("allows a listed host whatever its case", () => assert.doesNotThrow(() => assertRegistryAllowed("Registry.Example.com:5000", ["registry.example.com:5000"])));
  it("refuses an unlisted host, and a listed host with another port, with permissionDenied naming the host and the key", () => {
    for (const host of ["evil.example", "registry.example.com:443"]) {
      assert.throws(() => assertRegistryAllowed(host, ["registry.example.com:5000", "ghcr.io"]), (err: unknown) => {
        assert.ok(err instanceof RegistryNotAllowedError);
        assert.equal(err.code, "permissionDenied");
        assert.equal(err.message, `registry host ${JSON.stringify(host)} is not in [builder] allowed_registries of this builder node: expected one of registry.example.com:5000, ghcr.io`);
        return true;
      });
    }
  });
});
