import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { startServer, type RunningServer } from "../../app/start-server.js";
import { staticConfigSource } from "../../libs/config/config-source.js";
import { loadConfig } from "../../libs/config/load-config.js";
import { ConfigService } from "../../libs/gen/buildplane/v1/config_pb.js";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { tempDir } from "../rpc/serve-process.js";

const readToken = "read-token-3b7e91";
const nodeToken = "node-token-a1c044";
const adminToken = "admin-token-77d0e2";

let server: RunningServer;
let dir: { path: string; cleanup(): void };

before(async () => {
  dir = tempDir("bp-scopes-");
  const env = {
    BUILDPLANE_SYSTEM_DATA_DIR: dir.path,
    BUILDPLANE_SECURITY_READ_TOKEN: readToken,
    BUILDPLANE_SECURITY_ADMIN_TOKEN: adminToken,
    BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: nodeToken,
  };
  server = await startServer({ config: staticConfigSource(loadConfig({ env })), services: ["config", "metadata"], host: "127.0.0.1", port: 0, log: silentLogger });
});

after(async () => {
  await server.close(0);
  dir.cleanup();
});

const protocols: Record<string, (token?: string) => Transport> = {
  gRPC: (token) => createGrpcTransport({ baseUrl: server.url, interceptors: bearer(token) }),
  "gRPC-Web": (token) => createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors: bearer(token) }),
  Connect: (token) => createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors: bearer(token) }),
  "Connect over HTTP/2": (token) => createConnectTransport({ baseUrl: server.url, httpVersion: "2", interceptors: bearer(token) }),
};

function bearer(token: string | undefined): Interceptor[] {
  return token === undefined ? [] : [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))];
}

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  return p.then(() => assert.fail("expected the call to be refused"), (e: unknown) => ConnectError.from(e));
}

describe("scopes on the port", () => {
  for (const [name, transport] of Object.entries(protocols)) {
    it(`refuse a token without the method's scope with permission_denied over ${name}, naming the RPC and the scope`, async () => {
      const metadata = createClient(MetadataService, transport(readToken));
      const err = await failure(metadata.deleteApp({ id: "demo" }));
      assert.equal(err.code, Code.PermissionDenied);
      assert.equal(err.rawMessage, "MetadataService.DeleteApp needs scope admin, which the [security] read_token token does not carry");
      const node = createClient(ConfigService, transport(nodeToken));
      const credentials = await failure(node.getRegistryCredentials({}));
      assert.equal(credentials.code, Code.PermissionDenied);
      assert.equal(credentials.rawMessage, "ConfigService.GetRegistryCredentials needs scope internal, which the [system] builder_auth_token token does not carry");
    });

    it(`refuse a call without a credential with unauthenticated over ${name}`, async () => {
      const err = await failure(createClient(MetadataService, transport()).listBuilds({}));
      assert.equal(err.code, Code.Unauthenticated);
      assert.equal(err.rawMessage, "missing bearer token");
    });

    it(`let a token with the scope call over ${name}`, async () => {
      const res = await createClient(MetadataService, transport(readToken)).listBuilds({});
      assert.deepEqual(res.builds, []);
    });
  }

  it("answer a Connect caller HTTP 401 and 403 with a JSON error, before reading the body", async () => {
    const call = (token?: string) =>
      fetch(`${server.url}/buildplane.v1.MetadataService/DeleteApp`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ id: "demo" }),
      });
    const anonymous = await call();
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get("www-authenticate"), 'Bearer realm="buildplane"');
    assert.deepEqual(await anonymous.json(), { code: "unauthenticated", message: "missing bearer token" });
    const reader = await call(readToken);
    assert.equal(reader.status, 403);
    assert.deepEqual(await reader.json(), {
      code: "permission_denied",
      message: "MetadataService.DeleteApp needs scope admin, which the [security] read_token token does not carry",
    });
  });

  it("refuse a method of a known service that has no scope in the table to every credential", async () => {
    const res = await fetch(`${server.url}/buildplane.v1.MetadataService/NotInTheTable`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: "{}",
    });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), {
      code: "permission_denied",
      message: "MetadataService.NotInTheTable is in no scope of the server's table, so no credential may call it",
    });
  });

  it("keep OpenRun's delegate route to the node scope", async () => {
    const res = await fetch(`${server.url}/_openrun/delegate_build`, { method: "POST", headers: { authorization: `Bearer ${readToken}` }, body: "x" });
    assert.equal(res.status, 403);
    // Plain text, as OpenRun's own node answers on this route.
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await res.text(), "POST /_openrun/delegate_build needs scope node, which the [security] read_token token does not carry\n");
  });

  it("let the admin token through to the apps writes", async () => {
    const admin = createClient(MetadataService, createGrpcTransport({ baseUrl: server.url, interceptors: bearer(adminToken) }));
    const err = await admin.deleteApp({ id: "no-such-app" }).then(() => undefined, (e: unknown) => ConnectError.from(e));
    assert.ok(err === undefined || (err.code !== Code.PermissionDenied && err.code !== Code.Unauthenticated), err?.rawMessage);
  });
});
