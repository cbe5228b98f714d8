import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { startServer } from "../../app/start-server.js";
import { staticConfigSource } from "../../libs/config/config-source.js";
import { loadConfig } from "../../libs/config/load-config.js";
import { ConfigService } from "../../libs/gen/buildplane/v1/config_pb.js";
import { silentLogger } from "../../libs/rpc/logger.js";

const password = "registry-pass-9f3e1c";
const token = "node-token-51d2aa";

async function serve(env: NodeJS.ProcessEnv) {
  const config = staticConfigSource(loadConfig({ env: { BUILDPLANE_REGISTRY_URL: "127.0.0.1:5999", BUILDPLANE_REGISTRY_USERNAME: "ci", BUILDPLANE_REGISTRY_PASSWORD: password, ...env } }));
  return startServer({ config, services: ["config"], host: "127.0.0.1", port: 0, log: silentLogger });
}

describe("registry credentials over the network", () => {
  it("are refused with PermissionDenied naming the setting when no token is configured", async (t) => {
    const running = await serve({});
    t.after(() => running.close(0));
    const client = createClient(ConfigService, createGrpcTransport({ baseUrl: running.url }));
    await assert.rejects(client.getRegistryCredentials({}), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.PermissionDenied);
      assert.equal(
        err.rawMessage,
        "GetRegistryCredentials over the network needs callers to authenticate: set [system] builder_auth_token (or BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN)",
      );
      return true;
    });
    const redacted = await client.getConfig({});
    assert.equal(redacted.config?.registry?.password, "***");
  });

  it("are given to in-process callers without a token", async (t) => {
    const running = await serve({});
    t.after(() => running.close(0));
    const res = await running.clients.config.getRegistryCredentials({});
    assert.equal(res.registry?.password, password);
  });

  it("are given to callers presenting the token, and refused without it", async (t) => {
    const running = await serve({ BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: token });
    t.after(() => running.close(0));
    const anonymous = createClient(ConfigService, createGrpcTransport({ baseUrl: running.url }));
    await assert.rejects(anonymous.getRegistryCredentials({}), (err: unknown) => err instanceof ConnectError && err.code === Code.Unauthenticated);
    const authed = createClient(
      ConfigService,
      createGrpcTransport({
        baseUrl: running.url,
        interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))],
      }),
    );
    const res = await authed.getRegistryCredentials({});
    assert.equal(res.registry?.username, "ci");
    assert.equal(res.registry?.password, password);
  });
});
