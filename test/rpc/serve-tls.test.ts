import assert from "node:assert/strict";
import { request } from "node:https";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ConfigService } from "../../libs/gen/buildplane/v1/config_pb.js";
import { configClient, grpc, unary } from "./grpc-js-clients.js";
import { childEnv, startServe, tempDir, writeConfig } from "./serve-process.js";
import { makeTestCerts } from "./test-certs.js";

function postHttps(url: string, ca: string): Promise<{ status: number; httpVersion: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", ca, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (b: Buffer) => (text += b.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, httpVersion: res.httpVersion, body: text }));
    });
    req.on("error", reject);
    req.end("{}");
  });
}

describe("buildplane serve over TLS", () => {
  it("serves gRPC over HTTP/2 and Connect JSON over HTTP/1.1 with TLS", async (t) => {
    const dir = tempDir("bp-tls-");
    t.after(() => dir.cleanup());
    const certs = makeTestCerts(dir.path);
    const file = writeConfig(dir.path, `[https]\ncert_file = "${certs.serverCertFile}"\nkey_file = "${certs.serverKeyFile}"\n`);
    const proc = await startServe(["--config", file, "--services", "config"], childEnv(dir.path));
    t.after(() => proc.kill());
    assert.equal(proc.url, `https://127.0.0.1:${proc.port}`);

    const client = createClient(ConfigService, createGrpcTransport({ baseUrl: proc.url, nodeOptions: { ca: certs.caPem } }));
    assert.equal((await client.getConfig({})).config?.https?.certFile, certs.serverCertFile);

    const res = await postHttps(`${proc.url}/buildplane.v1.ConfigService/GetConfig`, certs.caPem);
    assert.equal(res.status, 200);
    assert.equal(res.httpVersion, "1.1");
    assert.match(res.body, /"certFile"/);
  });

  it("requires a client certificate signed by client_ca_file (mTLS)", async (t) => {
    const dir = tempDir("bp-mtls-");
    t.after(() => dir.cleanup());
    const certs = makeTestCerts(dir.path);
    const file = writeConfig(
      dir.path,
      `[https]\ncert_file = "${certs.serverCertFile}"\nkey_file = "${certs.serverKeyFile}"\nclient_ca_file = "${certs.caFile}"\nclient_scopes = { "buildplane test client" = "read" }\n`,
    );
    const proc = await startServe(["--config", file, "--services", "config"], childEnv(dir.path));
    t.after(() => proc.kill());

    const anonymous = createClient(ConfigService, createGrpcTransport({ baseUrl: proc.url, nodeOptions: { ca: certs.caPem } }));
    const err = await anonymous.getConfig({}).then(() => assert.fail("expected the handshake to fail"), (e: unknown) => ConnectError.from(e));
    // The server's TLS 1.3 alert, as the client's transport reports it.
    assert.equal(err.code, Code.Internal);
    assert.match(err.rawMessage, /alert certificate required/);

    const withCert = createClient(ConfigService, createGrpcTransport({
      baseUrl: proc.url,
      nodeOptions: { ca: certs.caPem, cert: certs.clientCertPem, key: certs.clientKeyPem },
    }));
    assert.equal((await withCert.getConfig({})).config?.https?.clientCaFile, certs.caFile);

    const grpcJs = configClient(
      `127.0.0.1:${proc.port}`,
      grpc.credentials.createSsl(Buffer.from(certs.caPem), Buffer.from(certs.clientKeyPem), Buffer.from(certs.clientCertPem)),
    );
    t.after(() => grpcJs.close());
    const res = await unary<{ config: { https: { client_ca_file: string } } }>(grpcJs, "GetConfig", {});
    assert.equal(res.config.https.client_ca_file, certs.caFile);
  });
});
