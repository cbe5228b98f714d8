import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { extract, type Header } from "tar-stream";
import { packTar, TAR_CHUNK, TAR_JOIN_BELOW, type TarEntry } from "./deterministic-tar.js";

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

  it("passes a large body on uncopied, in pieces of at most TAR_CHUNK", async () => {
    const big = Buffer.alloc(TAR_CHUNK * 2 + 100, "x");
    const { pieces, tar } = await packed([{ path: "big", type: "file", mode: 0o644, size: big.length, body: Readable.from([big]) }]);
    const views = pieces.filter((p) => p.buffer === big.buffer);
    assert.deepEqual(
      views.map((p) => p.length),
      [TAR_CHUNK, TAR_CHUNK, 100],
    );
    for (const p of pieces) assert.ok(p.length <= TAR_CHUNK, `a piece of ${p.length} bytes`);
    assert.equal((await readBack(tar))[0]?.body, big.toString());
  });

  it("joins headers and small files into pieces of at least TAR_JOIN_BELOW, and leaves a large file's pieces whole", async () => {
    const small = Array.from({ length: 200 }, (_, i): TarEntry => ({ path: `s/${i}.txt`, type: "file", mode: 0o644, size: 3, body: Readable.from([Buffer.from(`${i % 1000}`.padStart(3, "0"))]) }));
    const bodyPieces = Array.from({ length: 4 }, (_, i) => Buffer.alloc(TAR_JOIN_BELOW, 97 + i));
    const large: TarEntry = { path: "large.bin", type: "file", mode: 0o644, size: 4 * TAR_JOIN_BELOW, body: Readable.from(bodyPieces) };
    const { pieces, tar } = await packed([...small, large]);
    // 200 small files are 200 KiB of headers and padded bodies: joined, not 400 pieces.
    const joined = pieces.filter((p) => !bodyPieces.some((b) => b.buffer === p.buffer));
    assert.ok(joined.length <= 5, `${joined.length} joined pieces`);
    for (const p of joined.slice(0, -2)) assert.ok(p.length >= TAR_JOIN_BELOW && p.length <= TAR_CHUNK, `a joined piece of ${p.length} bytes`);
    // Every piece of the large file's body is yielded as the very memory it was read into.
    assert.equal(pieces.length - joined.length, bodyPieces.length);
    const back = await readBack(tar);
    assert.equal(back.length, 201);
    assert.equal(back[7]?.body, "007");
    assert.equal(back[200]?.body, Buffer.concat(bodyPieces).toString());
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
