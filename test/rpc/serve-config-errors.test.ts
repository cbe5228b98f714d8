import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { childEnv, runBuildplane, tempDir, writeConfig } from "./serve-process.js";

describe("buildplane serve with an invalid configuration file", () => {
  it("exits 2 naming the file, line and key when a known key has the wrong type", async (t) => {
    const dir = tempDir("bp-badcfg-");
    t.after(() => dir.cleanup());
    const file = writeConfig(dir.path, '[http]\nhost = "127.0.0.1"\nport = "x"\n');
    const res = await runBuildplane(["serve", "--config", file], childEnv(dir.path));
    assert.equal(res.code, 2);
    assert.equal(res.stdout, "");
    assert.equal(res.stderr, `buildplane: ${file}:3:1: http.port: "x" is not valid: expected an integer\n`);
  });

  it("exits 2 naming the file, line and key of a wrong type in a later section", async (t) => {
    const dir = tempDir("bp-badcfg-");
    t.after(() => dir.cleanup());
    const file = writeConfig(dir.path, '[http]\nhost = "127.0.0.1"\n\n[builder]\nmode = 3\n');
    const res = await runBuildplane(["serve", "--config", file], childEnv(dir.path));
    assert.equal(res.code, 2);
    assert.equal(res.stderr, `buildplane: ${file}:5:1: builder.mode: 3 is not valid: expected a string\n`);
  });

  it("exits 2 naming the file when --config points at a file that does not exist", async (t) => {
    const dir = tempDir("bp-badcfg-");
    t.after(() => dir.cleanup());
    const file = join(dir.path, "missing.toml");
    const res = await runBuildplane(["serve", "--config", file], childEnv(dir.path));
    assert.equal(res.code, 2);
    assert.equal(res.stderr, `buildplane: ${file}: cannot read the configuration file (ENOENT)\n`);
  });
});
