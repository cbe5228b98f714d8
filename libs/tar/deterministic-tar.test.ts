import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { extract, type Header } from "tar-stream";
import { packTar, TAR_CHUNK, type TarEntry } from "./deterministic-tar.js";

/** The entries of a small tree, each file body given as text. */
function entries(): TarEntry[] {
  const file = (path: string, text: string, mode = 0o644): TarEntry => ({
    path, type: "file", mode, size: Buffer.byteLength(text), body: Readable.from([Buffer.from(text)]),
  });
  return [
    { path: "bin", type: "directory", mode: 0o755, size: 0 },
    file("bin/run.sh", "#!/bin/sh\necho hi\n", 0o755),
    { path: "link", type: "symlink", mode: 0o777, size: 0, linkname: "bin/run.sh" },
    file("readme.txt", "hello\n"),
  ];
}

async function* from(list: readonly TarEntry[]): AsyncGenerator<TarEntry> {
  yield* list;
}

async function packed(list: readonly TarEntry[]): Promise<{ pieces: Buffer[]; tar: Buffer }> {
  const pieces: Buffer[] = [];
  for await (const piece of packTar(from(list))) pieces.push(piece);
  return { pieces, tar: Buffer.concat(pieces) };
}

/** Every header of a tar, with each file's body as text. */
async function readBack(tar: Buffer): Promise<Array<{ header: Header; body: string }>> {
  const out: Array<{ header: Header; body: string }> = [];
  const x = extract();
  const done = new Promise<void>((resolve, reject) => {
    x.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => chunks.push(Buffer.from(c as Uint8Array)));
      stream.on("end", () => {
        out.push({ header, body: Buffer.concat(chunks).toString() });
        next();
      });
    });
    x.on("finish", resolve);
    x.on("error", reject);
  });
  x.end(tar);
  await done;
  return out;
}

describe("packTar", () => {
  it("writes every header with time 0, owner 0:0 and no owner names, in the order given, with the given modes", async () => {
    const read = await readBack((await packed(entries())).tar);
    assert.deepEqual(
      read.map(({ header: h, body }) => [h.name, h.type, h.mode, h.size, h.linkname ?? "", body]),
      [
        ["bin/", "directory", 0o755, 0, "", ""],
        ["bin/run.sh", "file", 0o755, 18, "", "#!/bin/sh\necho hi\n"],
        ["link", "symlink", 0o777, 0, "bin/run.sh", ""],
        ["readme.txt", "file", 0o644, 6, "", "hello\n"],
      ],
    );
    for (const { header: h } of read) {
      assert.equal(h.mtime?.getTime(), 0, h.name);
      assert.equal(h.uid, 0, h.name);
      assert.equal(h.gid, 0, h.name);
      assert.equal(h.uname, "", h.name);
      assert.equal(h.gname, "", h.name);
    }
  });

  it("gives the same bytes for the same entries", async () => {
    const a = (await packed(entries())).tar;
    const b = (await packed(entries())).tar;
    assert.ok(a.equals(b));
  });

  it("yields pieces of exactly TAR_CHUNK bytes but the last", async () => {
    const big = "x".repeat(TAR_CHUNK * 2 + 100);
    const { pieces, tar } = await packed([{ path: "big", type: "file", mode: 0o644, size: big.length, body: Readable.from([Buffer.from(big)]) }]);
    assert.ok(pieces.length >= 3);
    for (const p of pieces.slice(0, -1)) assert.equal(p.length, TAR_CHUNK);
    assert.ok((pieces.at(-1)?.length ?? 0) <= TAR_CHUNK);
    assert.equal((await readBack(tar))[0]?.body, big);
  });

  it("stops with canceled when the signal is aborted", async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      (async () => { for await (const _ of packTar(from(entries()), ac.signal)) void _; })(),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "canceled");
        assert.equal(err.message, "build context stream was cancelled");
        return true;
      },
    );
  });
});
