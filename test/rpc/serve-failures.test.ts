import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { childEnv, runBuildplane, tempDir } from "./serve-process.js";

describe("buildplane serve failures", () => {
  it("exits 1 naming the port when it is already in use", async (t) => {
    const dir = tempDir("bp-port-");
    t.after(() => dir.cleanup());
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    t.after(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    const res = await runBuildplane(["serve", "--host", "127.0.0.1", "--port", String(port)], childEnv(dir.path));
    assert.equal(res.code, 1);
    assert.equal(res.stdout, "");
    assert.match(res.stderr, new RegExp(`^buildplane: port ${port} on 127\\.0\\.0\\.1 is already in use: set \\[http\\] port or BUILDPLANE_HTTP_PORT$`, "m"));
  });

  it("exits 1 naming the port when BUILDPLANE_HTTP_PORT points at a port in use", async (t) => {
    const dir = tempDir("bp-port-");
    t.after(() => dir.cleanup());
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    t.after(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    const res = await runBuildplane(["serve"], childEnv(dir.path, { BUILDPLANE_HTTP_PORT: String(port), BUILDPLANE_HTTP_HOST: "127.0.0.1" }));
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`^buildplane: port ${port} on 127\\.0\\.0\\.1 is already in use`, "m"));
  });

  it("exits 2 listing the services when --services names an unknown one", async (t) => {
    const dir = tempDir("bp-svc-");
    t.after(() => dir.cleanup());
    const res = await runBuildplane(["serve", "--port", "0", "--services", "config,bilder"], childEnv(dir.path));
    assert.equal(res.code, 2);
    assert.equal(res.stderr, 'buildplane: --services "bilder" is not a service: expected config, metadata, source, resolver, builder or lifecycle\n');
  });

  it("exits 2 when --port is not a port", async (t) => {
    const dir = tempDir("bp-flag-");
    t.after(() => dir.cleanup());
    const res = await runBuildplane(["serve", "--port", "http"], childEnv(dir.path));
    assert.equal(res.code, 2);
    assert.match(res.stderr, /option '--port <port>' argument 'http' is invalid\. "http" is not a port: expected 0 to 65535/);
  });

  it("exits 2 on an unknown flag", async (t) => {
    const dir = tempDir("bp-flag-");
    t.after(() => dir.cleanup());
    const res = await runBuildplane(["serve", "--prot", "1"], childEnv(dir.path));
    assert.equal(res.code, 2);
    assert.match(res.stderr, /unknown option '--prot'/);
  });
});
