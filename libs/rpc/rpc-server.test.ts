import assert from "node:assert/strict";
import { once } from "node:events";
import http2 from "node:http2";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { describe, it, type TestContext } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ConfigService } from "../gen/buildplane/v1/config_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
import { silentLogger } from "./logger.js";
import { PortInUseError } from "./port-in-use-error.js";
import { maxStreamWindowBytes, streamWindowBytes, streamWindowFor } from "./listeners.js";
import { createRpcServer } from "./rpc-server.js";
import { createFixtureConfigService } from "./test-fixtures.js";
import { startTcpForwarder } from "../../test/helpers/tcp-forwarder.js";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function started(options: { unaryDelay?: Promise<void>; unaryStarted?: () => void; buildPaths?: string[] } = {}) {
  const service = { ...createFixtureConfigService(options), buildPaths: options.buildPaths ?? [] };
  const server = createRpcServer({ host: "127.0.0.1", port: 0, services: [service], log: silentLogger });
  const { port } = await server.listen();
  return { server, baseUrl: `http://127.0.0.1:${port}`, port };
}

/**
 * A TCP forwarder to `target` that holds the client's first PING ACK (and
 * all it sends after it, in order) for `delayMs`: one ping answered late, as
 * by a client busy for a moment, and every other one at once.
 */
async function startLateFirstAckProxy(target: number, delayMs: number): Promise<{ port: number; close(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.pipe(client);
    // Client to server: the 24-byte preface, then frames (9-byte header: length, type, flags, stream).
    let pending = Buffer.alloc(0);
    let at = 24;
    let held = false;
    client.on("data", (piece: Buffer) => {
      if (held) {
        pending = Buffer.concat([pending, piece]);
        return;
      }
      let data = Buffer.concat([pending, piece]);
      pending = Buffer.alloc(0);
      while (data.length >= at + 9) {
        const length = data.readUIntBE(at, 3);
        const isPingAck = data[at + 3] === 0x6 && ((data[at + 4] ?? 0) & 0x1) === 0x1;
        if (isPingAck) {
          held = true;
          upstream.write(data.subarray(0, at));
          pending = data.subarray(at);
          setTimeout(() => {
            held = false;
            upstream.write(pending);
            pending = Buffer.alloc(0);
            client.pipe(upstream);
          }, delayMs);
          client.removeAllListeners("data");
          client.on("data", (more: Buffer) => {
            if (held) pending = Buffer.concat([pending, more]);
          });
          return;
        }
        at += 9 + length;
      }
      upstream.write(data.subarray(0, Math.min(at, data.length)));
      pending = data.subarray(Math.min(at, data.length));
      at -= Math.min(at, data.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** An HTTP/2 session to a fresh server through the forwarder `forward` starts; all closed after `t`. */
async function sessionThrough(t: TestContext, forward: (port: number) => Promise<{ readonly port: number; close(): unknown }>): Promise<http2.ClientHttp2Session> {
  const { server, port } = await started();
  t.after(() => server.close(0));
  const proxy = await forward(port);
  t.after(() => proxy.close());
  const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
  t.after(() => session.close());
  return session;
}

describe("rpc server", () => {
  it("serves gRPC over h2c, and Connect and gRPC-Web over HTTP/1.1, on one port", async (t) => {
    const { server, baseUrl } = await started();
    t.after(() => server.close(0));
    const transports = {
      grpc: createGrpcTransport({ baseUrl }),
      connectHttp1: createConnectTransport({ baseUrl, httpVersion: "1.1" }),
      connectHttp2: createConnectTransport({ baseUrl, httpVersion: "2" }),
      grpcWebHttp1: createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
    };
    for (const [name, transport] of Object.entries(transports)) {
      const res = await createClient(ConfigService, transport).getConfig({});
      assert.equal(res.config?.sourceFile, "fixture.toml", name);
    }
  });

  it("answers a Connect JSON call made with plain fetch", async (t) => {
    const { server, baseUrl } = await started();
    t.after(() => server.close(0));
    const res = await fetch(`${baseUrl}/buildplane.v1.ConfigService/GetConfig`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { config: { sourceFile: "fixture.toml" } });
  });

  it("maps domain errors to their code over the wire", async (t) => {
    const { server, baseUrl } = await started();
    t.after(() => server.close(0));
    const err = await createClient(ConfigService, createGrpcTransport({ baseUrl }))
      .validateConfig({ fileName: "a.toml" })
      .then(() => assert.fail("expected NotFound"), (e: unknown) => ConnectError.from(e));
    assert.equal(err.code, Code.NotFound);
    assert.equal(err.rawMessage, 'fixture "a.toml" does not exist: expected an existing fixture');
  });

  it("reports the server and each mounted service as serving", async (t) => {
    const { server, baseUrl } = await started();
    t.after(() => server.close(0));
    const health = createClient(Health, createGrpcTransport({ baseUrl }));
    assert.equal((await health.check({ service: "" })).status, Status.SERVING);
    assert.equal((await health.check({ service: "buildplane.v1.ConfigService" })).status, Status.SERVING);
  });

  it("fails with a message naming host and port when the port is in use", async (t) => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    t.after(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    const server = createRpcServer({ host: "127.0.0.1", port, services: [createFixtureConfigService()], log: silentLogger });
    const err = await server.listen().then(() => assert.fail("expected the port to be in use"), (e: unknown) => e);
    assert.ok(err instanceof PortInUseError);
    assert.equal(err.code, "unavailable");
    assert.equal(err.message, `port ${port} on 127.0.0.1 is already in use: set [http] port or BUILDPLANE_HTTP_PORT`);
  });

  it("lets an in-flight unary call finish during shutdown", async () => {
    const delay = deferred();
    const inFlight = deferred();
    const { server, baseUrl } = await started({ unaryDelay: delay.promise, unaryStarted: inFlight.resolve });
    const call = createClient(ConfigService, createGrpcTransport({ baseUrl })).getConfig({});
    await inFlight.promise;
    const closed = server.close(30_000);
    delay.resolve();
    assert.equal((await call).config?.sourceFile, "fixture.toml");
    await closed;
  });

  it("ends an open server stream when the grace period is over", async () => {
    const { server, baseUrl } = await started();
    const stream = createClient(ConfigService, createGrpcTransport({ baseUrl })).watchConfig({})[Symbol.asyncIterator]();
    const first = await stream.next();
    assert.equal(first.done, false);
    const closed = server.close(50);
    const rest = await stream.next().then((r) => (r.done ? "ended" : "message"), (e: unknown) => `error ${Code[ConnectError.from(e).code]}`);
    await closed;
    assert.match(rest, /^(ended|error \w+)$/);
  });

  it("refuses new connections once closed", async () => {
    const { server, baseUrl } = await started();
    await server.close(0);
    const err = await createClient(ConfigService, createConnectTransport({ baseUrl, httpVersion: "1.1" }))
      .getConfig({})
      .then(() => assert.fail("expected the call to fail"), (e: unknown) => ConnectError.from(e));
    assert.equal(err.code, Code.Unavailable);
  });

  it("holds 300 calls in flight at once without a MaxListenersExceededWarning, and answers them all", async (t) => {
    const release = deferred();
    let inFlight = 0;
    const allIn = deferred();
    const { server, baseUrl } = await started({ unaryDelay: release.promise, unaryStarted: () => ++inFlight === 300 && allIn.resolve() });
    t.after(() => server.close(0));
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    t.after(() => process.off("warning", onWarning));
    const client = createClient(ConfigService, createGrpcTransport({ baseUrl }));
    const calls = Array.from({ length: 300 }, () => client.getConfig({}));
    await allIn.promise;
    release.resolve();
    const answers = await Promise.all(calls);
    assert.equal(answers.filter((a) => a.config?.sourceFile === "fixture.toml").length, 300);
    // Warnings are emitted on a later tick.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => w.includes("MaxListenersExceeded")), []);
  });

  it("refuses build calls with unavailable once shutdown began, answers health NOT_SERVING, and waits for the build calls in flight", async (t) => {
    const release = deferred();
    const started1 = deferred();
    const path = `/${ConfigService.typeName}/GetConfig`;
    const { server, baseUrl } = await started({ unaryDelay: release.promise, unaryStarted: started1.resolve, buildPaths: [path] });
    t.after(() => server.close(0));
    const transport = createGrpcTransport({ baseUrl });
    const running = createClient(ConfigService, transport).getConfig({});
    await started1.promise;
    assert.equal(server.buildsRunning, 1);
    server.beginShutdown();
    const err = await createClient(ConfigService, transport)
      .getConfig({})
      .then(() => assert.fail("expected a refusal"), (e: unknown) => ConnectError.from(e));
    assert.equal(err.code, Code.Unavailable);
    assert.equal(err.rawMessage, "the server is shutting down; retry on another replica");
    assert.equal((await createClient(Health, transport).check({ service: "" })).status, Status.NOT_SERVING);
    let idle = false;
    const idled = server.buildsIdle().then(() => (idle = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(idle, false, "the build call in flight is awaited");
    release.resolve();
    assert.equal((await running).config?.sourceFile, "fixture.toml");
    await idled;
    assert.equal(server.buildsRunning, 0);
  });

  it("answers an HTTP/1.0 call without a Host header with 400 naming why, and goes on serving", async (t) => {
    const { server, baseUrl, port } = await started();
    t.after(() => server.close(0));
    const { connect } = await import("node:net");
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.end("POST /buildplane.v1.ConfigService/GetConfig HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}");
      });
      let text = "";
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => (text += d));
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /unable to determine request authority from Node\.js server request/);
    const res = await createClient(ConfigService, createGrpcTransport({ baseUrl })).getConfig({});
    assert.equal(res.config?.sourceFile, "fixture.toml");
  });

  it("gives each HTTP/2 stream a 1 MiB window and the connection 16 MiB, so an upload is neither throttled nor held unread in bulk", async (t) => {
    const { server, baseUrl } = await started();
    t.after(() => server.close(0));
    const session = http2.connect(baseUrl);
    t.after(() => session.close());
    const [settings] = (await once(session, "remoteSettings")) as [http2.Settings];
    // A ping answered means every frame the server sent before it (its WINDOW_UPDATE) has arrived.
    await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
    assert.equal(settings.initialWindowSize, streamWindowBytes);
    assert.equal(streamWindowBytes, 1024 * 1024);
    assert.equal(session.state.remoteWindowSize, 16 * 1024 * 1024);
  });

  it("sizes a stream's window to the round trip: 1 GB/s worth of it, from 1 MiB up to 16 MiB", () => {
    assert.equal(streamWindowFor(0.05), streamWindowBytes, "loopback");
    assert.equal(streamWindowFor(1), streamWindowBytes, "a LAN");
    assert.equal(streamWindowFor(10), 10_000_000, "another zone");
    assert.equal(streamWindowFor(16.8), maxStreamWindowBytes);
    assert.equal(streamWindowFor(120), maxStreamWindowBytes, "another continent");
    assert.equal(maxStreamWindowBytes, 16 * 1024 * 1024);
  });

  it("widens the stream window of a connection with a long round trip once it has measured it", async (t) => {
    // 25 ms each way: a 50 ms round trip, which a 1 MiB window would cap at 20 MB/s per stream.
    const session = await sessionThrough(t, (port) => startTcpForwarder(port, { delayMs: 25 }));
    const [first] = (await once(session, "remoteSettings")) as [http2.Settings];
    assert.equal(first.initialWindowSize, streamWindowBytes);
    const [wider] = (await once(session, "remoteSettings")) as [http2.Settings];
    assert.equal(wider.initialWindowSize, maxStreamWindowBytes);
  });

  it("does not take one ping answered late, by a client busy for a moment, for a long round trip", async (t) => {
    const session = await sessionThrough(t, (port) => startLateFirstAckProxy(port, 200));
    // Either the server pings a third time, or it has sized the window already.
    let pings = 0;
    await new Promise<void>((resolve) => {
      session.on("ping", () => ++pings === 3 && resolve());
      session.on("remoteSettings", (settings: http2.Settings) => (settings.initialWindowSize ?? 0) > streamWindowBytes && resolve());
    });
    // Anything the server sent after its third ping was answered has arrived once two pings of ours were.
    for (let i = 0; i < 2; i++) await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
    assert.ok(session.remoteSettings.initialWindowSize !== undefined && session.remoteSettings.initialWindowSize < maxStreamWindowBytes, `window ${session.remoteSettings.initialWindowSize}: the 200 ms ping alone would have made it ${maxStreamWindowBytes}`);
  });
});
