import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { startServer, type RunningServer } from "../../app/start-server.js";
import { staticConfigSource } from "../../libs/config/config-source.js";
import { loadConfig } from "../../libs/config/load-config.js";
import { ConfigService } from "../../libs/gen/buildplane/v1/config_pb.js";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { makeTestCerts, type TestCerts } from "../helpers/test-certs.js";
import { tempDir } from "../rpc/serve-process.js";

const adminToken = "admin-token-mtls-8d3c";

let server: RunningServer;
let certs: TestCerts;
let dir: { path: string; cleanup(): void };

before(async () => {
  dir = tempDir("bp-mtls-scopes-");
  certs = await makeTestCerts(dir.path);
  const env = {
    BUILDPLANE_SYSTEM_DATA_DIR: dir.path,
    BUILDPLANE_HTTPS_CERT_FILE: certs.serverCertPath,
    BUILDPLANE_HTTPS_KEY_FILE: certs.serverKeyPath,
    BUILDPLANE_HTTPS_CLIENT_CA_FILE: certs.caPath,
    // The map comes from the environment, as a Kubernetes pod would set it.
    BUILDPLANE_HTTPS_CLIENT_SCOPES: '{ "buildplane test client" = "read" }',
    BUILDPLANE_SECURITY_ADMIN_TOKEN: adminToken,
  };
  server = await startServer({ config: staticConfigSource(loadConfig({ env })), services: ["config", "metadata"], host: "127.0.0.1", port: 0, log: silentLogger });
});

after(async () => {
  await server.close(0);
  dir.cleanup();
});

function transport(token?: string) {
  const interceptors: Interceptor[] = token === undefined ? [] : [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))];
  return createGrpcTransport({ baseUrl: server.url, nodeOptions: { ca: certs.caPem, cert: certs.clientCertPem, key: certs.clientKeyPem }, interceptors });
}

describe("client certificates carry the scopes of [https] client_scopes", () => {
  it("let a certificate call the methods of its scopes", async () => {
    const res = await createClient(MetadataService, transport()).listBuilds({});
    assert.deepEqual(res.builds, []);
  });

  it("refuse a certificate a method outside its scopes with permission_denied naming the certificate", async () => {
    const err = await createClient(ConfigService, transport()).validateConfig({ toml: "" }).then(
      () => assert.fail("expected PermissionDenied"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err.code, Code.PermissionDenied);
    assert.equal(err.rawMessage, 'ConfigService.ValidateConfig needs scope admin, which client certificate "buildplane test client" does not carry');
  });

  it("add a bearer token's scopes to the certificate's", async () => {
    const res = await createClient(ConfigService, transport(adminToken)).validateConfig({ toml: "" });
    assert.equal(res.valid, true);
  });

  it("refuse registry credentials to a certificate without the internal scope", async () => {
    const err = await createClient(ConfigService, transport(adminToken)).getRegistryCredentials({}).then(
      () => assert.fail("expected PermissionDenied"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err.code, Code.PermissionDenied);
    assert.equal(
      err.rawMessage,
      'ConfigService.GetRegistryCredentials needs scope internal, which the [security] admin_token token and client certificate "buildplane test client" do not carry',
    );
  });
});
