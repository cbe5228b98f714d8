import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkCapabilities, type ModeCapabilities } from "./capability-check.js";

const all: ModeCapabilities = { secretArgs: true, labels: true, needsRegistry: false, verifiesPush: true, localEngine: true, platforms: true };

describe("capability check", () => {
  it("refuses a secret build arg for a mode without secret args, with failedPrecondition naming the arg and the mode", () => {
    assert.throws(
      () => checkCapabilities("command", { ...all, secretArgs: false }, { buildId: "b_1", secretArgs: ["TOKEN"], hasRegistry: true }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "failedPrecondition");
        assert.equal(e.message, "secret build arg TOKEN is not supported by the command mode: docker and podman record build arg values in the image history");
        return true;
      },
    );
  });

  it("refuses a build without a registry for a mode that always pushes, with failedPrecondition naming the build", () => {
    assert.throws(
      () => checkCapabilities("kaniko", { ...all, needsRegistry: true }, { buildId: "b_2", secretArgs: [], hasRegistry: false }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "failedPrecondition");
        assert.equal(e.message, 'build "b_2" has no registry: the kaniko mode pushes to a registry, set [registry] url');
        return true;
      },
    );
  });

  it("lets through what the mode can serve", () => {
    checkCapabilities("kaniko", { ...all, needsRegistry: true }, { buildId: "b_3", secretArgs: ["TOKEN"], hasRegistry: true });
    checkCapabilities("command", { ...all, secretArgs: false }, { buildId: "b_4", secretArgs: [], hasRegistry: false });
  });
});
