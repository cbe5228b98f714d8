import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { healthClient, unary } from "../rpc/grpc-js-clients.js";
import { childEnv, runBuildplane, startServe, tempDir } from "../rpc/serve-process.js";

const refusal =
  'buildplane: http.host "0.0.0.0" is not a loopback address and no credential is configured: set [security] build_token, read_token or admin_token, [system] builder_auth_token, [services] token (BUILDPLANE_SECURITY_BUILD_TOKEN, BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN, BUILDPLANE_SERVICES_TOKEN …) or [https] client_ca_file; or set [security] allow_unauthenticated = true (BUILDPLANE_SECURITY_ALLOW_UNAUTHENTICATED=true) to serve every RPC to anyone who can reach the port\n';

describe("buildplane serve off loopback", () => {
  it("refuses to start without a credential, with exit code 2 and the settings to add", async (t) => {
    const dir = tempDir("bp-open-");
    t.after(() => dir.cleanup());
    const run = await runBuildplane(["serve", "--host", "0.0.0.0", "--port", "0", "--services", "config"], childEnv(dir.path));
    assert.equal(run.code, 2);
    assert.equal(run.stderr, refusal);
    assert.equal(run.stdout, "");
  });

  it("starts with allow_unauthenticated, warns loudly, and keeps health open", async (t) => {
    const dir = tempDir("bp-open-");
    t.after(() => dir.cleanup());
    const env = childEnv(dir.path, { BUILDPLANE_SECURITY_ALLOW_UNAUTHENTICATED: "true" });
    const proc = await startServe(["--host", "0.0.0.0", "--services", "config"], env);
    t.after(() => proc.kill());
    assert.match(proc.stderr(), /WARNING: \[security\] allow_unauthenticated = true: every RPC on 0\.0\.0\.0 is served to anyone who can reach the port/);
    const health = healthClient(`127.0.0.1:${proc.port}`);
    t.after(() => health.close());
    assert.deepEqual(await unary(health, "Check", { service: "" }), { status: "SERVING" });
  });

  it("starts without a warning when a token comes from the environment", async (t) => {
    const dir = tempDir("bp-open-");
    t.after(() => dir.cleanup());
    const proc = await startServe(["--host", "0.0.0.0", "--services", "config"], childEnv(dir.path, { BUILDPLANE_SECURITY_READ_TOKEN: "read-token-0c1d" }));
    t.after(() => proc.kill());
    assert.doesNotMatch(proc.stderr(), /WARNING/);
  });
});
