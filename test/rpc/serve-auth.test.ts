import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configClient, grpc, healthClient, unary } from "./grpc-js-clients.js";
import { childEnv, startServe, tempDir, writeConfig } from "./serve-process.js";

const token = "tok-7f3a9c2e-serve-auth";
const nodeToken = "tok-node-51aa-serve-auth";
const wrongToken = "tok-wrong-guess-0000";

function withToken(value: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${value}`);
  return md;
}

describe("buildplane serve with bearer tokens", () => {
  it("requires a token with the method's scope, answers Unauthenticated without one, and never prints them", async (t) => {
    const dir = tempDir("bp-auth-");
    t.after(() => dir.cleanup());
    const file = writeConfig(dir.path, `[security]\nread_token = "${token}"\n[system]\nbuilder_auth_token = "${nodeToken}"\n`);
    const proc = await startServe(["--config", file, "--services", "config"], childEnv(dir.path));
    t.after(() => proc.kill());
    const address = `127.0.0.1:${proc.port}`;
    const config = configClient(address);
    const health = healthClient(address);
    t.after(() => {
      config.close();
      health.close();
    });

    const missing = await unary(config, "GetConfig", {}).then(() => assert.fail("expected UNAUTHENTICATED"), (e: grpc.ServiceError) => e);
    assert.equal(missing.code, grpc.status.UNAUTHENTICATED);
    assert.equal(missing.details, "missing bearer token");

    const wrong = await unary(config, "GetConfig", {}, withToken(wrongToken)).then(() => assert.fail("expected UNAUTHENTICATED"), (e: grpc.ServiceError) => e);
    assert.equal(wrong.code, grpc.status.UNAUTHENTICATED);
    assert.equal(wrong.details, "invalid bearer token");

    const res = await unary<{ config: { system: { builder_auth_token: string } } }>(config, "GetConfig", {}, withToken(token));
    assert.equal(res.config.system.builder_auth_token, "***");

    const node = await unary(config, "GetConfig", {}, withToken(nodeToken)).then(() => assert.fail("expected PERMISSION_DENIED"), (e: grpc.ServiceError) => e);
    assert.equal(node.code, grpc.status.PERMISSION_DENIED);
    assert.equal(node.details, "ConfigService.GetConfig needs one of the scopes read, internal, which the [system] builder_auth_token token does not carry");

    assert.deepEqual(await unary(health, "Check", { service: "" }), { status: "SERVING" });

    proc.child.kill("SIGTERM");
    assert.equal(await proc.exited, 0);
    const output = proc.stdout() + proc.stderr();
    assert.ok(!output.includes(token), "the token appears in the server output");
    assert.ok(!output.includes(nodeToken), "the node token appears in the server output");
    assert.ok(!output.includes(wrongToken), "the presented token appears in the server output");
  });
});
