import assert from "node:assert/strict";
import { existsSync } from "node:fs";
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
  assert.equal(existsSync(spool.path), true);
  await spool.dispose();
  assert.equal(existsSync(spool.path), false);
  await assert.rejects(collect(spool.chunks()), /spool was removed/);
});
