import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { PassThrough, Readable } from "node:stream";
import { describe, it } from "node:test";
import { inBatches } from "./write-batches.js";

/** Resolves in the event loop's next check phase, after the immediates queued before it. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("inBatches", () => {
  it("hands on the pieces of one turn together, at its end, as the very buffers written", async () => {
    const source = new PassThrough();
    const batches = inBatches(source);
    const seen: { piece: Buffer; tick: number }[] = [];
    let tick = 0;
    batches.on("data", (piece: Buffer) => seen.push({ piece, tick }));
    const pieces = [Buffer.from("aa"), Buffer.from("bbb"), Buffer.from("c"), Buffer.from("dddd")];
    // Each piece from a callback of its own, as each HTTP/2 data frame is (Node runs the tick queue after each).
    for (const piece of pieces) setImmediate(() => source.write(piece));
    await nextTurn();
    assert.equal(seen.length, 0, "nothing is handed on before the turn ends");
    tick = 1;
    await nextTurn();
    assert.deepEqual(seen.map((s) => s.tick), [1, 1, 1, 1]);
    pieces.forEach((piece, i) => assert.equal(seen[i]?.piece.buffer, piece.buffer, `piece ${i} is not copied`));
    source.end(Buffer.from("e"));
    await once(batches, "end");
    assert.equal(Buffer.concat(seen.map((s) => s.piece)).toString(), "aabbbcdddde");
  });

  it("pauses the source while a batch holds maxBytes, and while nothing reads what was handed on", async () => {
    let produced = 0;
    const source = new Readable({
      read() {
        produced += 1024;
        this.push(Buffer.alloc(1024));
      },
    });
    const batches = inBatches(source, 8 * 1024);
    // Nothing reads `batches`: what the source gives stays bounded by the batch and the buffers between.
    await nextTurn();
    await nextTurn();
    await nextTurn();
    const bound = 8 * 1024 + batches.readableHighWaterMark + source.readableHighWaterMark + 1024;
    assert.ok(produced <= bound, `${produced} bytes taken from the source with no reader (at most ${bound})`);
    const before = produced;
    const got: Buffer[] = [];
    batches.on("data", (piece: Buffer) => got.push(piece));
    while (got.length < 200) await nextTurn();
    assert.ok(produced > before, "reading resumes the source");
    batches.destroy();
    await once(source, "close");
  });

  it("is destroyed with its source, dropping what waits in a batch", async () => {
    const source = new PassThrough();
    const batches = inBatches(source);
    const got: Buffer[] = [];
    batches.on("data", (piece: Buffer) => got.push(piece));
    source.write(Buffer.from("x"));
    source.destroy(new Error("upload cut"));
    const [err] = (await once(batches, "error")) as [Error];
    assert.equal(err.message, "upload cut");
    await nextTurn();
    assert.equal(got.length, 0);
  });

  it("turns the pieces of one turn into one socket write of an HTTP request", async () => {
    const reads: number[] = [];
    const server = createServer((req, res) => {
      req.on("data", (d: Buffer) => reads.push(d.length));
      req.on("end", () => res.end("ok"));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const writes: number[] = [];
      const source = new PassThrough();
      const req = request({ port: (server.address() as AddressInfo).port, method: "POST", headers: { "transfer-encoding": "chunked" } });
      req.on("socket", (socket: Socket) => {
        const writev = socket._writev?.bind(socket);
        const write = socket._write.bind(socket);
        socket._writev = (chunks, cb) => { writes.push(chunks.length); writev?.(chunks, cb); };
        socket._write = (chunk, encoding, cb) => { writes.push(1); write(chunk, encoding, cb); };
      });
      inBatches(source).pipe(req);
      const response = once(req, "response");
      const [socket] = (await once(req, "socket")) as [Socket];
      if (socket.connecting) await once(socket, "connect");
      await nextTurn();
      writes.length = 0;
      // 1 KiB pieces: 8 of them stay under the socket's high-water mark (16 KiB on Node 20), past which a write waits for the next tick.
      for (let i = 0; i < 8; i++) setImmediate(() => source.write(Buffer.alloc(1024, i)));
      await nextTurn();
      await nextTurn();
      assert.equal(writes.length, 1, `8 pieces of one turn in ${writes.length} socket writes (${writes.join(", ")} buffers each)`);
      source.end();
      const [res] = (await response) as [import("node:http").IncomingMessage];
      res.resume();
      await once(res, "end");
      assert.equal(reads.reduce((a, b) => a + b, 0), 8 * 1024);
    } finally {
      server.close();
    }
  });
});
