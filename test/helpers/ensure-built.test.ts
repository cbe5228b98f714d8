import assert from "node:assert/strict";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { staleBundle, staleSource } from "./ensure-built.js";
import { tempDir, type TempDir } from "./temp-dir.js";

describe("staleSource", () => {
  let dir: TempDir;
  const file = (rel: string, at: number): void => {
    const path = join(dir.path, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, "");
    utimesSync(path, at, at);
  };

  before(async () => {
    dir = await tempDir("bp-ensure-built-");
    for (const folder of ["app", "bin", "libs", "services"]) mkdirSync(join(dir.path, folder));
    file("libs/a/thing.ts", 1000);
    file("dist/libs/a/thing.js", 2000);
    file("libs/a/thing.test.ts", 3000);
    file("libs/rpc/test-fixtures.ts", 3000);
    file("libs/config/gen-docs.ts", 3000);
  });
  after(() => dir.remove());

  test("is undefined when every compiled source has a newer output, tests and dev scripts not counted", () => {
    assert.equal(staleSource(dir.path), undefined);
  });

  test("names a source newer than its output", () => {
    file("services/b/service.ts", 3000);
    file("dist/services/b/service.js", 2000);
    assert.equal(staleSource(dir.path), "services/b/service.ts");
    file("dist/services/b/service.js", 4000);
  });

  test("names a source with no output", () => {
    file("app/new.ts", 1000);
    assert.equal(staleSource(dir.path), "app/new.ts");
  });
});

describe("staleBundle", () => {
  let dir: TempDir;
  const file = (rel: string, at: number): void => {
    const path = join(dir.path, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, "");
    utimesSync(path, at, at);
  };

  before(async () => {
    dir = await tempDir("bp-ensure-bundle-");
  });
  after(() => dir.remove());

  test("is true when dist/cli/ was never bundled", () => {
    file("dist/bin/buildplane.js", 2000);
    assert.equal(staleBundle(dir.path), true);
  });

  test("is false when the bundle is newer than the last compile", () => {
    file("dist/cli/buildplane.js", 3000);
    assert.equal(staleBundle(dir.path), false);
  });

  test("is true again after a compile newer than the bundle", () => {
    file("dist/bin/buildplane.js", 4000);
    assert.equal(staleBundle(dir.path), true);
  });
});
