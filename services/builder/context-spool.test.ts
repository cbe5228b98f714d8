import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { createContextSpool } from "./context-spool.js";

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

test("a second pass after a broken first one yields the whole context", async () => {
  const data = Buffer.alloc(1_000_000, 7);
  const spool = await createContextSpool(Readable.from([data.subarray(0, 300_000), data.subarray(300_000)]), { maxBytes: 2_000_000 });
  try {
    for await (const chunk of spool.chunks()) {
      assert.ok(chunk.length > 0);
      break;
    }
    assert.deepEqual(await collect(spool.chunks()), data);
    assert.equal(spool.bytes, data.length);
  } finally {
    await spool.dispose();
  }
});

test("small source chunks are joined into pieces of the configured size, the last one shorter", async () => {
  const data = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
  const source = Readable.from(Array.from({ length: 25 }, (_, i) => data.subarray(i * 100, i * 100 + 100)));
  const spool = await createContextSpool(source, { maxBytes: 10_000, pieceBytes: 1000 });
  try {
    const sizes: number[] = [];
    const parts: Uint8Array[] = [];
    for await (const c of spool.chunks()) {
      sizes.push(c.length);
      parts.push(c);
    }
    assert.deepEqual(sizes, [1000, 1000, 500]);
    assert.deepEqual(Buffer.concat(parts), data);
    assert.deepEqual(await collect(spool.chunks()), data, "a later pass reads the same bytes back from the file");
  } finally {
    await spool.dispose();
  }
});

test("two passes running side by side both yield the whole context", async () => {
  const data = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7) % 256));
  const source = Readable.from(Array.from({ length: 50 }, (_, i) => data.subarray(i * 1000, i * 1000 + 1000)));
  const spool = await createContextSpool(source, { maxBytes: 100_000, pieceBytes: 4096 });
  try {
    const [a, b] = await Promise.all([collect(spool.chunks()), collect(spool.chunks())]);
    assert.deepEqual(a, data);
    assert.deepEqual(b, data);
  } finally {
    await spool.dispose();
  }
});

test("a source failing mid-way fails every pass with its error after the bytes before it", async () => {
  async function* broken(): AsyncGenerator<Buffer> {
    yield Buffer.alloc(3000, 1);
    throw new Error("the context stream broke");
  }
  const spool = await createContextSpool(Readable.from(broken()), { maxBytes: 100_000, pieceBytes: 1000 });
  try {
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const c of spool.chunks()) seen.push(c.length);
      })(),
      /the context stream broke/,
    );
    assert.deepEqual(seen, [1000, 1000, 1000], "a chunk larger than a piece is split");
    assert.match(spool.failure?.message ?? "", /the context stream broke/);
    await assert.rejects(collect(spool.chunks()), /the context stream broke/);
  } finally {
    await spool.dispose();
  }
});

test("a context over the limit fails with resource exhausted naming the setting", async () => {
  const spool = await createContextSpool(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), { maxBytes: 1000 });
  try {
    await assert.rejects(collect(spool.chunks()), (err: Error & { code?: string }) => {
      assert.equal(err.code, "resourceExhausted");
      assert.match(err.message, /builder\.max_upload_bytes \(1000 bytes\)/);
      return true;
    });
    assert.equal(spool.failure?.message.includes("max_upload_bytes"), true);
  } finally {
    await spool.dispose();
  }
});

test("dispose removes the temp file", async () => {
  const spool = await createContextSpool(Readable.from([Buffer.from("abc")]), { maxBytes: 10 });
  await collect(spool.chunks());
  const path = spool.path ?? assert.fail("a replayable spool has a file");
  assert.equal(existsSync(path), true);
  await spool.dispose();
  assert.equal(existsSync(path), false);
  await assert.rejects(collect(spool.chunks()), /spool was removed/);
});

/** A fresh folder for `dir`, removed after `body`; a spool that writes nothing leaves it empty. */
async function inTempRoot(body: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "spool-test-"));
  try {
    await body(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test("a context that is not replayable streams the source's chunks as they come, joining none, without writing a file", async () => {
  await inTempRoot(async (root) => {
    const data = Buffer.from(Array.from({ length: 2500 }, (_, i) => (i * 13) % 256));
    const source = Readable.from(Array.from({ length: 25 }, (_, i) => data.subarray(i * 100, i * 100 + 100)));
    const spool = await createContextSpool(source, { maxBytes: 10_000, pieceBytes: 1000, dir: root, replayable: false });
    try {
      assert.equal(spool.path, undefined);
      const sizes: number[] = [];
      const parts: Uint8Array[] = [];
      for await (const c of spool.chunks()) {
        sizes.push(c.length);
        parts.push(c);
        assert.deepEqual(await readdir(root), [], "nothing is written while the pass runs");
      }
      assert.deepEqual(sizes, Array.from({ length: 25 }, () => 100));
      parts.forEach((p, i) => assert.equal((p as Buffer).buffer, data.buffer, `chunk ${i} is the source's own bytes, not a copy`));
      assert.deepEqual(Buffer.concat(parts), data);
      assert.equal(spool.bytes, data.length);
    } finally {
      await spool.dispose();
    }
    assert.deepEqual(await readdir(root), [], "nothing is left behind");
  });
});

test("a context that is not replayable splits a source chunk larger than a piece, without copying it", async () => {
  const big = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
  const spool = await createContextSpool(Readable.from([big, Buffer.from("xy")]), { maxBytes: 10_000, pieceBytes: 1000, replayable: false });
  try {
    const parts: Buffer[] = [];
    for await (const c of spool.chunks()) parts.push(c as Buffer);
    assert.deepEqual(parts.map((p) => p.length), [1000, 1000, 500, 2]);
    assert.ok(parts.slice(0, 3).every((p) => p.buffer === big.buffer), "the pieces are views of the source chunk");
    assert.deepEqual(Buffer.concat(parts), Buffer.concat([big, Buffer.from("xy")]));
  } finally {
    await spool.dispose();
  }
});

test("a context that is not replayable refuses a second pass with an internal error", async () => {
  const spool = await createContextSpool(Readable.from([Buffer.from("abc")]), { maxBytes: 10, replayable: false });
  try {
    assert.deepEqual(await collect(spool.chunks()), Buffer.from("abc"));
    await assert.rejects(collect(spool.chunks()), (err: Error & { code?: string }) => {
      assert.equal(err.code, "internal");
      assert.match(err.message, /^build context pass 2 was asked for, but the context is streamed once and not kept/);
      return true;
    });
  } finally {
    await spool.dispose();
  }
});

test("a context that is not replayable still fails with resource exhausted past the limit", async () => {
  await inTempRoot(async (root) => {
    const spool = await createContextSpool(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), { maxBytes: 1000, pieceBytes: 500, dir: root, replayable: false });
    try {
      const seen: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const c of spool.chunks()) seen.push(c.length);
        })(),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, "resourceExhausted");
          assert.match(err.message, /builder\.max_upload_bytes \(1000 bytes\)/);
          return true;
        },
      );
      assert.equal(seen.reduce((a, b) => a + b, 0) <= 1000, true, "no byte past the limit is sent");
      assert.match(spool.failure?.message ?? "", /max_upload_bytes/);
    } finally {
      await spool.dispose();
    }
    assert.deepEqual(await readdir(root), []);
  });
});

test("a context that is not replayable keeps memory flat: the source is read at most two pieces ahead of the pass", async () => {
  const pieceBytes = 64 * 1024;
  let produced = 0;
  async function* endless(): AsyncGenerator<Buffer> {
    for (;;) {
      produced += pieceBytes;
      yield Buffer.alloc(pieceBytes, 1);
    }
  }
  const spool = await createContextSpool(Readable.from(endless(), { objectMode: false, highWaterMark: pieceBytes }), { maxBytes: 1024 ** 3, pieceBytes, replayable: false });
  try {
    let consumed = 0;
    for await (const c of spool.chunks()) {
      consumed += c.length;
      await new Promise((r) => setTimeout(r, 1));
      assert.ok(produced - consumed <= 6 * pieceBytes, `read ${produced - consumed} bytes ahead of the pass`);
      if (consumed >= 200 * pieceBytes) break;
    }
  } finally {
    await spool.dispose();
  }
});

test("a context that is not replayable fails a pass still running when it is disposed", async () => {
  async function* slow(): AsyncGenerator<Buffer> {
    yield Buffer.alloc(1000, 1);
    await new Promise((r) => setTimeout(r, 50));
    yield Buffer.alloc(1000, 2);
  }
  const spool = await createContextSpool(Readable.from(slow()), { maxBytes: 10_000, pieceBytes: 1000, replayable: false });
  const it = spool.chunks()[Symbol.asyncIterator]();
  assert.equal((await it.next()).done, false);
  await spool.dispose();
  await assert.rejects(it.next(), /the build context stream was closed/);
});
