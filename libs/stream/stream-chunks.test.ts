import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { describe, it } from "node:test";
import { pack } from "tar-stream";
import { streamChunks } from "./stream-chunks.js";

describe("stream chunks", () => {
  it("yields each buffered chunk as it was pushed, where the stream's own iterator joins them into a copy", async () => {
    const pushed = [Buffer.from("first "), Buffer.from("second "), Buffer.from("third")];
    const joined: Buffer[] = [];
    const own = new PassThrough();
    for (const chunk of pushed) own.write(chunk);
    own.end();
    for await (const chunk of own) joined.push(chunk as Buffer);
    // What this module avoids: the three chunks come out as one new buffer.
    assert.equal(joined.length, 1);
    assert.equal(joined[0]?.toString(), "first second third");

    const stream = new PassThrough();
    for (const chunk of pushed) stream.write(chunk);
    stream.end();
    const seen: Buffer[] = [];
    for await (const chunk of streamChunks(stream)) seen.push(chunk);
    assert.equal(seen.length, 3);
    seen.forEach((chunk, i) => assert.equal(chunk, pushed[i], `chunk ${i} is the pushed buffer itself, not a copy`));
  });

  it("pauses the stream while the queue holds its limit and resumes it once read", async () => {
    const stream = new Readable({ read() {} });
    const chunks = streamChunks(stream, 10);
    const first = chunks.next();
    stream.push(Buffer.alloc(6));
    stream.push(Buffer.alloc(6));
    assert.equal((await first).value?.length, 6);
    // One chunk of 6 bytes was handed over; the second waits in the queue, under the limit.
    assert.equal(stream.isPaused(), false);
    stream.push(Buffer.alloc(6));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stream.isPaused(), true, "12 bytes queued, over the 10-byte limit");
    assert.equal((await chunks.next()).value?.length, 6);
    assert.equal(stream.isPaused(), false, "6 bytes queued after a read");
    stream.push(null);
    assert.equal((await chunks.next()).value?.length, 6);
    assert.deepEqual(await chunks.next(), { done: true, value: undefined });
  });

  it("throws the stream's error after the chunks that came before it", async () => {
    const stream = new Readable({ read() {} });
    stream.push(Buffer.from("kept"));
    const seen: string[] = [];
    const reading = (async () => {
      for await (const chunk of streamChunks(stream)) {
        seen.push(chunk.toString());
        stream.destroy(new Error("connection reset by peer"));
      }
    })();
    await assert.rejects(reading, { message: "connection reset by peer" });
    assert.deepEqual(seen, ["kept"]);
  });

  it("throws the premature-close error when the stream closes before its end", async () => {
    const stream = new Readable({ read() {} });
    const reading = (async () => {
      for await (const _ of streamChunks(stream)) assert.fail("no chunk was pushed");
    })();
    stream.destroy();
    await assert.rejects(reading, { code: "ERR_STREAM_PREMATURE_CLOSE", message: "Premature close" });
  });

  it("destroys the stream when the reader leaves before its end, and leaves an ended stream as it is", async () => {
    const stream = new Readable({ read() {} });
    stream.push(Buffer.from("one"));
    stream.push(Buffer.from("two"));
    for await (const chunk of streamChunks(stream)) {
      assert.equal(chunk.toString(), "one");
      break;
    }
    assert.equal(stream.destroyed, true);
    assert.equal(stream.listenerCount("data"), 0);

    const ended = new PassThrough({ autoDestroy: false });
    ended.end(Buffer.from("all"));
    const all: string[] = [];
    for await (const chunk of streamChunks(ended)) all.push(chunk.toString());
    assert.deepEqual(all, ["all"]);
    assert.equal(ended.destroyed, false);
  });

  it("reads a stream of another implementation, with pause and resume but no isPaused (tar-stream's pack)", async () => {
    const archive = pack();
    archive.entry({ name: "a.txt" }, Buffer.alloc(3000, 97));
    archive.entry({ name: "b.txt" }, Buffer.alloc(3000, 98));
    archive.finalize();
    let bytes = 0;
    // A 1 KiB limit: the reader pauses and resumes the pack many times over.
    for await (const chunk of streamChunks(archive as unknown as Readable, 1024)) bytes += chunk.byteLength;
    // Two 512-byte headers, two bodies padded to 3072 bytes, two zero blocks.
    assert.equal(bytes, 2 * 512 + 2 * 3072 + 1024);
  });
});
