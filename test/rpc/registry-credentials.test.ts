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
const token = "internal-token-51d2aa";
const nodeToken = "node-token-77ab01";

function withBearer(url: string, value: string) {
  return createClient(
    ConfigService,
    createGrpcTransport({ baseUrl: url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${value}`), next(req))] }),
  );
}

async function serve(env: NodeJS.ProcessEnv) {
  const config = staticConfigSource(loadConfig({ env: { BUILDPLANE_REGISTRY_URL: "127.0.0.1:5999", BUILDPLANE_REGISTRY_USERNAME: "ci", BUILDPLANE_REGISTRY_PASSWORD: password, ...env } }));
  return startServer({ config, services: ["config"], host: "127.0.0.1", port: 0, log: silentLogger });
}

describe("registry credentials over the network", () => {
  it("are refused with PermissionDenied naming the setting when no credential is configured", async (t) => {
    const running = await serve({});
    t.after(() => running.close(0));
    const client = createClient(ConfigService, createGrpcTransport({ baseUrl: running.url }));
    await assert.rejects(client.getRegistryCredentials({}), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.PermissionDenied);
      assert.equal(
        err.rawMessage,
        "GetRegistryCredentials over the network needs a caller with the internal scope: set [services] token (or BUILDPLANE_SERVICES_TOKEN) here and on the services that call it",
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

  it("are given to callers presenting the internal token, and refused to the node token and to anonymous callers", async (t) => {
    const running = await serve({ BUILDPLANE_SERVICES_TOKEN: token, BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: nodeToken });
    t.after(() => running.close(0));
    const anonymous = createClient(ConfigService, createGrpcTransport({ baseUrl: running.url }));
    await assert.rejects(anonymous.getRegistryCredentials({}), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Unauthenticated);
      assert.equal(err.rawMessage, "missing bearer token");
      return true;
    });
    await assert.rejects(withBearer(running.url, nodeToken).getRegistryCredentials({}), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.PermissionDenied);
      assert.equal(err.rawMessage, "ConfigService.GetRegistryCredentials needs scope internal, which the [system] builder_auth_token token does not carry");
      return true;
    });
    const res = await withBearer(running.url, token).getRegistryCredentials({});
    assert.equal(res.registry?.username, "ci");
    assert.equal(res.registry?.password, password);
  });
});
