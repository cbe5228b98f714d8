import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ConfigService } from "../../libs/gen/buildplane/v1/config_pb.js";
import { childEnv, startServe, tempDir, type ServeProcess } from "../rpc/serve-process.js";

const adminToken = "admin-token-slow-2f9a";

let server: ServeProcess;
let dir: { path: string; cleanup(): void };

before(async () => {
  dir = tempDir("bp-slow-");
  server = await startServe(
    ["--services", "config"],
    childEnv(dir.path, { BUILDPLANE_SECURITY_ADMIN_TOKEN: adminToken, BUILDPLANE_HTTP_HEADERS_TIMEOUT_SECS: "1", BUILDPLANE_HTTP_IDLE_TIMEOUT_SECS: "2" }),
  );
});

after(() => {
  server.kill();
  dir.cleanup();
});

/** Opens a socket, calls `drip` with it until the server closes it; resolves with what the server sent and how long it took. */
function untilClosed(drip: (socket: net.Socket) => void): Promise<{ received: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(server.port, "127.0.0.1");
    let received = "";
    let timer: NodeJS.Timeout | undefined;
    socket.on("data", (b: Buffer) => (received += b.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(timer);
      resolve({ received, ms: Date.now() - started });
    });
    socket.on("connect", () => {
      drip(socket);
      timer = setInterval(() => {
        if (!socket.destroyed) drip(socket);
      }, 200);
    });
  });
}

describe("slow clients at the port", { timeout: 20_000 }, () => {
  it("a client sending its headers a byte at a time is cut at headers_timeout_secs", async () => {
    let sent = 0;
    const header = "POST /buildplane.v1.ConfigService/GetConfig HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    const run = await untilClosed((socket) => {
      socket.write(sent < header.length ? header.slice(sent, (sent += 20)) : "a");
    });
    assert.ok(run.ms < 5000, `the connection stayed open ${run.ms} ms`);
    assert.match(run.received, /^HTTP\/1\.1 408 /);
  });

  it("a client that connects and says nothing is dropped at headers_timeout_secs", async () => {
    const run = await untilClosed(() => undefined);
    assert.ok(run.ms < 5000, `the connection stayed open ${run.ms} ms`);
    assert.equal(run.received, "");
  });

  it("a slow upload that keeps moving is not cut, though it lasts longer than both timeouts", async () => {
    const body = Buffer.from(JSON.stringify({ toml: `[http]\nport = 8080\n${"# padding\n".repeat(40)}`, fileName: "slow.toml" }));
    const started = Date.now();
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${server.url}/buildplane.v1.ConfigService/ValidateConfig`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": String(body.length), authorization: `Bearer ${adminToken}` },
      });
      req.on("error", reject);
      req.on("response", (r) => {
        let text = "";
        r.on("data", (b: Buffer) => (text += b.toString()));
        r.on("end", () => resolve({ status: r.statusCode ?? 0, body: text }));
      });
      // About 4.5 s in all: past the 1 s header limit and the 2 s idle limit, with no gap longer than 300 ms.
      let offset = 0;
      const step = Math.ceil(body.length / 15);
      const timer = setInterval(() => {
        req.write(body.subarray(offset, (offset += step)));
        if (offset >= body.length) {
          clearInterval(timer);
          req.end();
        }
      }, 300);
    });
    assert.ok(Date.now() - started > 4000, "the upload was not slow");
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), { valid: true });
  });

  it("a connection left idle after its answer is closed at idle_timeout_secs", async () => {
    const run = await untilClosed((socket) => {
      if (socket.bytesWritten === 0) socket.write("POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    });
    assert.match(run.received, /^HTTP\/1\.1 200 /);
    // Node's own keep-alive limit is 5 s; the idle limit of 2 s comes first.
    assert.ok(run.ms < 4000, `the connection stayed open ${run.ms} ms`);
  });

  it("a server stream quiet for longer than idle_timeout_secs is not cut", async () => {
    const sessionManager = new Http2SessionManager(server.url);
    const client = createClient(
      ConfigService,
      createGrpcTransport({ baseUrl: server.url, sessionManager, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${adminToken}`), next(req))] }),
    );
    const abort = new AbortController();
    const stream = client.watchConfig({}, { signal: abort.signal })[Symbol.asyncIterator]();
    try {
      assert.equal((await stream.next()).done, false);
      // Nothing changes, so nothing is sent: the stream must outlive the 2 s idle limit.
      const quiet = await Promise.race([
        stream.next().then(() => "ended", () => "failed"),
        new Promise<string>((resolve) => setTimeout(() => resolve("still open"), 3500)),
      ]);
      assert.equal(quiet, "still open");
    } finally {
      abort.abort();
      sessionManager.abort();
    }
  });
});
