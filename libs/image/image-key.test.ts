import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { Secret } from "../secret/secret.js";
import { InvalidImageInputError, MissingInstallKeyError } from "./errors.js";
import { computeImageKey, type ImageInputs } from "./image-key.js";

const base: ImageInputs = {
  appId: "app_prd_2abc",
  repository: "https://example.com/repo.git",
  dir: "web",
  treeHash: "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
  containerfile: "Containerfile",
  args: [
    { name: "B", value: "2", secret: false },
    { name: "A", value: "1", secret: false },
  ],
  target: "",
  platform: "",
};

describe("computeImageKey", () => {
  it("gives a fixed sha256 hex for fixed inputs, the same on every machine", () => {
    // sha256 of "buildplane-image-key-v1\0app\0app_prd_2abc\0<tree>\0Containerfile\0\0\02\0A\0plain:1\0B\0plain:2\0",
    // checked independently with printf | sha256sum.
    assert.equal(computeImageKey(base), "cb4717195e9ccee0ac38bc7bda568c72dc412cd4a867656555a69cf7d289c77e");
  });

  it("does not depend on the order of build args", () => {
    assert.equal(computeImageKey({ ...base, args: [...base.args].reverse() }), computeImageKey(base));
  });

  const changes: Array<[string, Partial<ImageInputs>]> = [
    ["the tree hash", { treeHash: "1111111111111111111111111111111111111111" }],
    ["the containerfile", { containerfile: "Dockerfile" }],
    ["the target", { target: "prod" }],
    ["the platform", { platform: "linux/arm64" }],
    ["the app id", { appId: "app_prd_other" }],
    ["a build arg value", { args: [{ name: "A", value: "9", secret: false }, { name: "B", value: "2", secret: false }] }],
    ["a build arg becoming secret", { args: [{ name: "A", value: "1", secret: true }, { name: "B", value: "2", secret: false }] }],
    ["a build arg removed", { args: [{ name: "A", value: "1", secret: false }] }],
    ["a shift of text between target and platform", { target: "linux", platform: "" }],
  ];
  for (const [what, change] of changes) {
    it(`changes when ${what} changes`, () => {
      const installKey = new Uint8Array(32).fill(3);
      assert.notEqual(computeImageKey({ ...base, ...change }, installKey), computeImageKey(base, installKey));
    });
  }

  it("uses repository and folder only when there is no app id", () => {
    const noApp = { ...base, appId: "" };
    assert.equal(computeImageKey({ ...base, repository: "other" }), computeImageKey(base));
    assert.notEqual(computeImageKey({ ...noApp, repository: "other" }), computeImageKey(noApp));
    assert.notEqual(computeImageKey({ ...noApp, dir: "api" }), computeImageKey(noApp));
  });

  it("changes with a secret's value but never contains it", () => {
    const installKey = new Uint8Array(32).fill(7);
    const withSecret = (v: string): ImageInputs => ({ ...base, args: [{ name: "TOKEN", value: new Secret(v), secret: true }] });
    const a = computeImageKey(withSecret("hunter2"), installKey);
    assert.notEqual(a, computeImageKey(withSecret("hunter3"), installKey));
    assert.equal(a, computeImageKey(withSecret("hunter2"), installKey));
    assert.ok(!a.includes("hunter2"));
  });

  it("hashes a secret arg with the install key, so another install's key gives another image key", () => {
    const inputs: ImageInputs = { ...base, args: [{ name: "TOKEN", value: new Secret("hunter2"), secret: true }] };
    const one = computeImageKey(inputs, new Uint8Array(32).fill(1));
    assert.notEqual(one, computeImageKey(inputs, new Uint8Array(32).fill(2)));
    assert.equal(one, computeImageKey(inputs, new Uint8Array(32).fill(1)));
  });

  it("never hashes a secret arg with its name as the key, as a guess could be tested offline", () => {
    const inputs: ImageInputs = { ...base, args: [{ name: "TOKEN", value: new Secret("hunter2"), secret: true }] };
    const nameKeyed = createHmac("sha256", "TOKEN").update("hunter2").digest("hex");
    const values = ["buildplane-image-key-v1", "app", base.appId, base.treeHash, "Containerfile", "", "", "1", "TOKEN", `hmac-sha256:${nameKeyed}`];
    const guessed = createHash("sha256").update(values.map((v) => `${v}\0`).join("")).digest("hex");
    assert.notEqual(computeImageKey(inputs, new Uint8Array(32).fill(1)), guessed);
  });

  it("keeps the key of inputs without secret args whatever the install key", () => {
    assert.equal(computeImageKey(base, new Uint8Array(32).fill(9)), computeImageKey(base));
  });

  it("refuses a secret arg without an install key with failedPrecondition naming the arg", () => {
    const inputs: ImageInputs = { ...base, args: [{ name: "TOKEN", value: new Secret("hunter2"), secret: true }] };
    assert.throws(() => computeImageKey(inputs), (err: unknown) => {
      assert.ok(err instanceof MissingInstallKeyError);
      assert.equal(err.code, "failedPrecondition");
      assert.equal(err.message, 'build arg "TOKEN" is secret: expected the install key (from the metadata service) to hash it');
      return true;
    });
  });

  it("rejects a build arg given twice with invalidArgument naming it", () => {
    const args = [{ name: "A", value: "1", secret: false }, { name: "A", value: "2", secret: false }];
    assert.throws(() => computeImageKey({ ...base, args }), (err: unknown) => {
      assert.ok(err instanceof InvalidImageInputError);
      assert.equal(err.code, "invalidArgument");
      assert.equal(err.message, 'build arg "A" is given twice: expected each name once');
      return true;
    });
  });

  it("rejects an empty tree hash with invalidArgument", () => {
    assert.throws(() => computeImageKey({ ...base, treeHash: "" }), (err: unknown) => {
      assert.ok(err instanceof InvalidImageInputError);
      assert.equal(err.code, "invalidArgument");
      assert.equal(err.message, "tree hash is empty: expected the hash of the build folder");
      return true;
    });
  });

  it("rejects a NUL byte in an input with invalidArgument", () => {
    assert.throws(() => computeImageKey({ ...base, target: "a\0b" }), (err: unknown) => {
      assert.ok(err instanceof InvalidImageInputError);
      assert.equal(err.code, "invalidArgument");
      assert.match(err.message, /^build input "a\\u0000b" contains a NUL byte: expected text without NUL$/);
      return true;
    });
  });
});
