import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ConfigService } from "../../libs/gen/buildplane/v1/config_pb.js";
import { configClient, grpc, healthClient, unary } from "./grpc-js-clients.js";
import { childEnv, repoRoot, startServe, tempDir, writeConfig, type ServeProcess } from "./serve-process.js";

const run = promisify(execFile);

async function serve(t: { after(fn: () => unknown): void }, args: string[] = []): Promise<ServeProcess> {
  const dir = tempDir("bp-serve-");
  t.after(() => dir.cleanup());
  const file = writeConfig(dir.path, '[registry]\nproject = "interop"\n');
  const proc = await startServe(["--config", file, "--services", "config", ...args], childEnv(dir.path));
  t.after(() => proc.kill());
  return proc;
}

function postHttp1(url: string, body: string): Promise<{ status: number; httpVersion: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (b: Buffer) => (text += b.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, httpVersion: res.httpVersion, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("buildplane serve interop", () => {
  it("answers GetConfig and Health/Check to a plain grpc-js client", async (t) => {
    const proc = await serve(t);
    const address = `127.0.0.1:${proc.port}`;
    const config = configClient(address);
    const health = healthClient(address);
    t.after(() => {
      config.close();
      health.close();
    });
    const res = await unary<{ config: { registry: { project: string }; http: { port: number } } }>(config, "GetConfig", {});
    assert.equal(res.config.registry.project, "interop");
    assert.deepEqual(await unary(health, "Check", { service: "" }), { status: "SERVING" });
    assert.deepEqual(await unary(health, "Check", { service: "buildplane.v1.ConfigService" }), { status: "SERVING" });
    const err = await unary(health, "Check", { service: "buildplane.v1.NopeService" }).then(
      () => assert.fail("expected NOT_FOUND"),
      (e: grpc.ServiceError) => e,
    );
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, 'service "buildplane.v1.NopeService" is not known to this server');
  });

  it("answers a Connect JSON call over plain HTTP/1.1 on the same port", async (t) => {
    const proc = await serve(t);
    const res = await postHttp1(`${proc.url}/buildplane.v1.ConfigService/GetConfig`, "{}");
    assert.equal(res.status, 200);
    assert.equal(res.httpVersion, "1.1");
    assert.equal((JSON.parse(res.body) as { config: { registry: { project: string } } }).config.registry.project, "interop");
  });

  it("answers gRPC-Web over HTTP/1.1 and gRPC over h2c", async (t) => {
    const proc = await serve(t);
    for (const transport of [createGrpcWebTransport({ baseUrl: proc.url, httpVersion: "1.1" }), createGrpcTransport({ baseUrl: proc.url })]) {
      const res = await createClient(ConfigService, transport).getConfig({});
      assert.equal(res.config?.registry?.project, "interop");
    }
  });

  it("lets buf curl call GetConfig through server reflection, v1 and v1alpha", async (t) => {
    const proc = await serve(t);
    const buf = join(repoRoot, "node_modules/.bin/buf");
    for (const reflectProtocol of ["grpc-v1", "grpc-v1alpha"]) {
      const { stdout } = await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--reflect-protocol", reflectProtocol, `${proc.url}/buildplane.v1.ConfigService/GetConfig`], { cwd: repoRoot });
      assert.equal((JSON.parse(stdout) as { config: { registry: { project: string } } }).config.registry.project, "interop", reflectProtocol);
    }
    const { stdout } = await run(buf, ["curl", "--http2-prior-knowledge", "--list-methods", proc.url], { cwd: repoRoot });
    assert.match(stdout, /^buildplane\.v1\.ConfigService\/GetConfig$/m);
    assert.match(stdout, /^grpc\.health\.v1\.Health\/Check$/m);
  });

  it("exits 0 on SIGTERM while a WatchConfig stream is open", async (t) => {
    const proc = await serve(t, ["--shutdown-grace", "1"]);
    const client = createClient(ConfigService, createGrpcTransport({ baseUrl: proc.url }));
    const stream = client.watchConfig({})[Symbol.asyncIterator]();
    const first = await stream.next();
    assert.equal(first.done, false);
    const rest = stream.next().then(() => "ended", () => "failed");
    proc.child.kill("SIGTERM");
    assert.equal(await proc.exited, 0);
    assert.match(await rest, /^(ended|failed)$/);
  });
});
