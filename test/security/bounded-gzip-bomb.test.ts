import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { createGzip } from "node:zlib";
import { childEnv, startServe, tempDir, type ServeProcess } from "../rpc/serve-process.js";

const adminToken = "admin-token-bomb-5e21";
const inflatedMiB = 512;
const maxMessageBytes = 8 * 1024 * 1024;
/** Peak memory the server may gain over the whole file: far below the bomb's size, far above noise. */
const marginMiB = 64;

let server: ServeProcess;
let dir: { path: string; cleanup(): void };
let bomb: Buffer;
let peakBefore: number;
let peakAfterAnonymous: number | undefined;

/** The server process's peak resident set (VmHWM), in KiB. */
function peakKiB(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  assert.ok(m?.[1], "no VmHWM in /proc/<pid>/status");
  return Number(m[1]);
}

/** `inflatedMiB` of zeros, gzipped at level 9 (about 0.5 MiB). */
async function makeBomb(): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gzip.on("data", (b: Buffer) => parts.push(b));
  const done = new Promise((resolve) => gzip.on("end", resolve));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < inflatedMiB; i++) if (!gzip.write(zeros)) await new Promise((r) => gzip.once("drain", r));
  gzip.end();
  await done;
  return Buffer.concat(parts);
}

before(async () => {
  dir = tempDir("bp-bomb-");
  bomb = await makeBomb();
  server = await startServe(["--services", "config"], childEnv(dir.path, { BUILDPLANE_SECURITY_ADMIN_TOKEN: adminToken, BUILDPLANE_HTTP_IDLE_TIMEOUT_SECS: "30" }));
  const pid = server.child.pid;
  assert.ok(pid !== undefined);
  // One ordinary call first, so the baseline includes what serving any request costs.
  await fetch(`${server.url}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  peakBefore = peakKiB(pid);
});

after(() => {
  server.kill();
  dir.cleanup();
});

function connectCall(body: Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}/buildplane.v1.ConfigService/ValidateConfig`, {
    method: "POST",
    headers: { "content-type": "application/proto", ...headers },
    body,
  });
}

/** A gRPC call over h2c whose one message is `payload`, gzip-compressed when `compressed`; resolves with the status and message. */
function grpcCall(payload: Buffer, compressed: boolean, token?: string): Promise<{ status: string; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.url);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": "/buildplane.v1.ConfigService/ValidateConfig",
      "content-type": "application/grpc+proto",
      te: "trailers",
      ...(compressed ? { "grpc-encoding": "gzip" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    });
    // Done at the status, as gRPC clients are: the rest of an upload the server refused is not sent.
    const take = (h: http2.IncomingHttpHeaders): void => {
      if (h["grpc-status"] === undefined) return;
      session.destroy();
      resolve({ status: String(h["grpc-status"]), message: decodeURIComponent(String(h["grpc-message"] ?? "")) });
    };
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("data", () => undefined);
    stream.on("error", () => undefined);
    stream.on("close", () => {
      session.destroy();
      resolve({ status: "", message: "the stream closed without a status" });
    });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt8(compressed ? 1 : 0, 0);
    prefix.writeUInt32BE(payload.length, 1);
    stream.end(Buffer.concat([prefix, payload]));
  });
}

describe("a gzip bomb at the port", { timeout: 20_000 }, () => {
  it(`without credentials is answered 401 over Connect before it is inflated (${inflatedMiB} MiB packed in under 1 MiB)`, async () => {
    assert.ok(bomb.length < 1024 * 1024, `the bomb is ${bomb.length} bytes`);
    const res = await connectCall(bomb, { "content-encoding": "gzip" });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { code: "unauthenticated", message: "missing bearer token" });
  });

  it("without credentials is answered unauthenticated over gRPC before it is inflated", async () => {
    assert.deepEqual(await grpcCall(bomb, true), { status: "16", message: "missing bearer token" });
    peakAfterAnonymous = peakKiB(server.child.pid ?? 0);
  });

  it("with credentials is cut at max_message_bytes while inflating, with resource_exhausted", async () => {
    const res = await connectCall(bomb, { "content-encoding": "gzip", authorization: `Bearer ${adminToken}` });
    const body = (await res.json()) as { code: string; message: string };
    assert.deepEqual(body, { code: "resource_exhausted", message: `message is larger than configured readMaxBytes ${maxMessageBytes} after decompression` });
    const grpc = await grpcCall(bomb, true, adminToken);
    assert.deepEqual(grpc, { status: "8", message: `message is larger than configured readMaxBytes ${maxMessageBytes} after decompression` });
  });

  it("an oversized plain message with credentials is refused with resource_exhausted", async () => {
    const big = Buffer.alloc(maxMessageBytes + 1024);
    const grpc = await grpcCall(big, false, adminToken);
    assert.equal(grpc.status, "8");
    assert.match(grpc.message, new RegExp(`larger than configured readMaxBytes ${maxMessageBytes}`));
    const res = await connectCall(big, { authorization: `Bearer ${adminToken}` });
    assert.equal(((await res.json()) as { code: string }).code, "resource_exhausted");
  });

  it(`leaves the server's peak memory flat (less than ${marginMiB} MiB over its baseline)`, (t) => {
    const pid = server.child.pid;
    assert.ok(pid !== undefined);
    const peakAfter = peakKiB(pid);
    const grownMiB = (peakAfter - peakBefore) / 1024;
    const anonymous = peakAfterAnonymous === undefined ? "not measured" : `${((peakAfterAnonymous - peakBefore) / 1024).toFixed(1)} MiB`;
    t.diagnostic(`server VmHWM before ${Math.round(peakBefore / 1024)} MiB, after ${Math.round(peakAfter / 1024)} MiB: grown ${anonymous} by the bombs without credentials, ${grownMiB.toFixed(1)} MiB in all`);
    assert.ok(grownMiB < marginMiB, `the server's peak memory grew by ${grownMiB.toFixed(1)} MiB`);
  });
});
