import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { staticConfigSource } from "../libs/config/config-source.js";
import { loadConfig } from "../libs/config/load-config.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../libs/gen/grpc/health/v1/health_pb.js";
import { silentLogger } from "../libs/rpc/logger.js";
import { PortInUseError } from "../libs/rpc/port-in-use-error.js";
import { startServer } from "./start-server.js";
import { TlsFileError } from "./tls-files.js";

function defaults(env: NodeJS.ProcessEnv = {}) {
  return staticConfigSource(loadConfig({ env }));
}

describe("start server", () => {
  it("mounts only the requested services and answers Unavailable for the others", async (t) => {
    const running = await startServer({ config: defaults(), services: ["config", "builder"], host: "127.0.0.1", port: 0, log: silentLogger });
    t.after(() => running.close(0));
    assert.deepEqual(running.mounted, ["config", "builder"]);
    assert.equal(running.url, `http://127.0.0.1:${running.port}`);
    const health = createClient(Health, createGrpcTransport({ baseUrl: running.url }));
    assert.equal((await health.check({ service: "buildplane.v1.ConfigService" })).status, Status.SERVING);
    assert.equal((await running.clients.config.getConfig({})).config?.http?.host, "127.0.0.1");
    assert.equal((await running.clients.builder.getStatus({})).capacity, 1);
    await assert.rejects(running.clients.metadata.getBuild({ id: "b_x" }), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Unavailable);
      assert.equal(err.rawMessage, "service metadata does not run in this process and [services] metadata_url is not set");
      return true;
    });
  });

  it("runs all five services, metadata serving once its SQLite file is open", async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), "bp-serve-"));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const config = defaults({ BUILDPLANE_SYSTEM_DATA_DIR: dataDir });
    const running = await startServer({ config, services: ["config", "metadata", "source", "resolver", "builder"], host: "127.0.0.1", port: 0, log: silentLogger });
    t.after(() => running.close(0));
    assert.deepEqual(running.mounted, ["config", "metadata", "source", "resolver", "builder"]);
    const health = createClient(Health, createGrpcTransport({ baseUrl: running.url }));
    let status = Status.UNKNOWN;
    for (let i = 0; i < 100 && status !== Status.SERVING; i++) {
      status = (await health.check({ service: "buildplane.v1.MetadataService" })).status;
      if (status !== Status.SERVING) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status, Status.SERVING);
    const { builds } = await running.clients.metadata.listBuilds({});
    assert.deepEqual(builds, []);
  });

  it("fails with the port when it is in use", async (t) => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    t.after(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    await assert.rejects(startServer({ config: defaults(), services: ["config"], host: "127.0.0.1", port, log: silentLogger }), (err: unknown) => {
      assert.ok(err instanceof PortInUseError);
      assert.equal(err.message, `port ${port} on 127.0.0.1 is already in use: set [http] port or BUILDPLANE_HTTP_PORT`);
      return true;
    });
  });

  it("fails naming the key and file when a TLS file is gone by the time the server starts", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "bp-tls-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    writeFileSync(cert, "not really a certificate");
    writeFileSync(key, "not really a key");
    const config = defaults({ BUILDPLANE_HTTPS_CERT_FILE: cert, BUILDPLANE_HTTPS_KEY_FILE: key });
    rmSync(cert);
    await assert.rejects(startServer({ config, services: ["config"], host: "127.0.0.1", port: 0, log: silentLogger }), (err: unknown) => {
      assert.ok(err instanceof TlsFileError);
      assert.equal(err.code, "invalidArgument");
      assert.equal(err.message, `https.cert_file "${cert}" cannot be read (ENOENT): expected a readable PEM file`);
      return true;
    });
  });
});
