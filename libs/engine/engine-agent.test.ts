import assert from "node:assert/strict";
import { once } from "node:events";
import { Agent, createServer, request, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { tempDir, type TempDir } from "../../test/helpers/temp-dir.js";
import { createEngineAt, type Engine } from "./engine.js";
import { ENGINE_WRITE_BUFFER_BYTES, EngineAgent } from "./engine-agent.js";

const KiB = 1024;

/**
 * An engine API on a Unix socket that answers `/version` and `/_ping` and
 * never reads the body of a `POST /build`, as an engine busy with other
 * work: what a client writes stays in the connection's buffers.
 */
async function startStalledEngine(path: string): Promise<{ server: Server; connections: Set<Socket>; close(): Promise<void> }> {
  const connections = new Set<Socket>();
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/build") || req.url?.startsWith("/upload")) {
      req.pause();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(req.url === "/version" ? JSON.stringify({ Version: "24.0.0", ApiVersion: "1.43", Components: [{ Name: "Engine", Version: "24.0.0" }] }) : "OK");
  });
  server.on("connection", (s: Socket) => {
    connections.add(s);
    s.once("close", () => connections.delete(s));
  });
  server.listen(path);
  await once(server, "listening");
  return {
    server,
    connections,
    async close() {
      for (const s of connections) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

/** Writes 64 KiB pieces into a `POST /upload` through `agent` until the request first asks its writer to wait: the bytes it took. */
async function bytesBeforeBackpressure(socketPath: string, agent: Agent): Promise<{ bytes: number; highWaterMark: number }> {
  const req = request({ socketPath, agent, method: "POST", path: "/upload", headers: { "transfer-encoding": "chunked" } });
  req.on("error", () => undefined);
  const [socket] = (await once(req, "socket")) as [Socket];
  const piece = Buffer.alloc(64 * KiB);
  let bytes = 0;
  for (let room = true; room; ) {
    bytes += piece.byteLength;
    room = req.write(piece);
  }
  const highWaterMark = socket.writableHighWaterMark;
  req.destroy();
  return { bytes, highWaterMark };
}

/** What a build whose engine reads nothing takes of its context, through `engine`, until the context stops being read. */
async function contextTakenByStalledBuild(engine: Engine, tag: string): Promise<number> {
  const signal = new AbortController();
  let pulled = 0;
  const context = new Readable({
    read() {
      pulled += 64 * KiB;
      this.push(Buffer.alloc(64 * KiB));
    },
  });
  const build = engine.build({ context, tag, dockerfile: "Containerfile", buildArgs: {} }, () => undefined, signal.signal).then(
    () => assert.fail("the stalled engine never answers the build"),
    (err: unknown) => err,
  );
  for (let last = -1; pulled !== last; ) {
    last = pulled;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  signal.abort();
  const err = (await build) as Error;
  assert.equal(err.name, "EngineOperationCanceledError");
  assert.equal(err.message, `build of "${tag}" was canceled`);
  return pulled;
}

describe("EngineAgent", () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir("bp-engine-agent-");
  });
  after(() => dir.remove());

  it("gives each connection a 1 MiB write buffer: a writer is asked to wait only once 1 MiB is queued, at 64 KiB through Node's default agent", async () => {
    const path = join(dir.path, "stalled.sock");
    const engine = await startStalledEngine(path);
    try {
      const defaults = await bytesBeforeBackpressure(path, new Agent());
      const engines = await bytesBeforeBackpressure(path, new EngineAgent());
      assert.equal(engines.highWaterMark, ENGINE_WRITE_BUFFER_BYTES);
      assert.ok(defaults.highWaterMark < ENGINE_WRITE_BUFFER_BYTES, `Node's default: ${defaults.highWaterMark} bytes`);
      assert.equal(engines.bytes, ENGINE_WRITE_BUFFER_BYTES);
      assert.equal(defaults.bytes, 64 * KiB, "the first 64 KiB piece fills the buffer of Node's default agent");
    } finally {
      await engine.close();
    }
  });

  it("keeps a connection alive for the next request, as Node's global agent does", async () => {
    const path = join(dir.path, "keep-alive.sock");
    const engine = await startStalledEngine(path);
    let connections = 0;
    engine.server.on("connection", () => connections++);
    try {
      const agent = new EngineAgent();
      for (let i = 0; i < 3; i++) {
        const req = request({ socketPath: path, agent, method: "GET", path: "/_ping" });
        req.end();
        const [res] = (await once(req, "response")) as [IncomingMessage];
        res.resume();
        await once(res, "end");
        assert.equal(res.statusCode, 200);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(connections, 1, "three requests, one connection");
      agent.destroy();
    } finally {
      await engine.close();
    }
  });

  it("carries the engine's requests: a build whose engine reads nothing queues 1 MiB more of its context than with Node's 64 KiB buffer, and is canceled cleanly", async () => {
    const path = join(dir.path, "engine.sock");
    const stalled = await startStalledEngine(path);
    const endpoint = { kind: "socket", socketPath: path, label: "stalled engine" } as const;
    try {
      const taken = await contextTakenByStalledBuild(createEngineAt(endpoint), "stalled:1");
      const small = await contextTakenByStalledBuild(createEngineAt(endpoint, { writeBufferBytes: 64 * KiB }), "stalled:2");
      assert.ok(taken - small >= ENGINE_WRITE_BUFFER_BYTES - 128 * KiB, `${taken} bytes of the context taken with the default buffer, ${small} with 64 KiB`);
    } finally {
      await stalled.close();
    }
  });
});
