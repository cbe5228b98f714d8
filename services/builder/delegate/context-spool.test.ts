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
