import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { lstat, mkdtemp, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { pack, type Header } from "tar-stream";
import { extractTar } from "./safe-extract.js";

type Spec = Partial<Header> & { name: string; body?: string };

async function tarOf(specs: Spec[]): Promise<Buffer> {
  const p = pack();
  for (const { body, ...h } of specs) p.entry(h, body ?? "");
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});
async function target(): Promise<string> {
  const r = await mkdtemp(join(tmpdir(), "extract-test-"));
  roots.push(r);
  return join(r, "out");
}
const limits = { maxBytes: 1 << 20, maxEntries: 100 };

async function rejects(specs: Spec[], message: string, opts = limits): Promise<void> {
  const dir = await target();
  await assert.rejects(extractTar(Readable.from(await tarOf(specs)), dir, opts), (err: Error & { code?: string }) => {
    assert.equal(err.code, "invalidArgument");
    assert.equal(err.message, message);
    return true;
  });
  assert.equal(existsSync(dir), false, "the partial target is removed");
}

describe("extractTar", () => {
  it("extracts files, folders, modes and inner symlinks", async () => {
    const dir = await target();
    const res = await extractTar(Readable.from(await tarOf([
      { name: "a/", type: "directory", mode: 0o755 },
      { name: "a/run.sh", mode: 0o4755, body: "#!/bin/sh\n" },
      { name: "a/link", type: "symlink", linkname: "run.sh" },
      { name: "b.txt", mode: 0o644, body: "hello" },
      { name: "hard", type: "link", linkname: "b.txt" },
    ])), dir, limits);
    assert.deepEqual(res, { entries: 5, bytes: 15 });
    assert.equal((await lstat(join(dir, "a/run.sh"))).mode & 0o7777, 0o755);
    assert.equal(await readlink(join(dir, "a/link")), "run.sh");
    assert.equal(await readFile(join(dir, "hard"), "utf8"), "hello");
  });

  it("rejects a name with '..' and removes the target", () =>
    rejects([{ name: "ok.txt", body: "x" }, { name: "a/../../evil", body: "x" }], `tar entry "a/../../evil" is not allowed: names must not contain '..'`));

  it("rejects an absolute name", () =>
    rejects([{ name: "/etc/evil", body: "x" }], `tar entry "/etc/evil" is not allowed: absolute names are not allowed`));

  it("rejects a symlink pointing outside", () =>
    rejects([{ name: "a/l", type: "symlink", linkname: "../../x" }], `tar entry "a/l" is not allowed: symlinks must point inside the target folder`));

  it("rejects an absolute symlink", () =>
    rejects([{ name: "l", type: "symlink", linkname: "/etc/passwd" }], `tar entry "l" is not allowed: symlinks must be relative`));

  it("rejects writing through a symlink even when it points inside", () =>
    rejects([
      { name: "d/", type: "directory" },
      { name: "l", type: "symlink", linkname: "d" },
      { name: "l/f", body: "x" },
    ], `tar entry "l/f" is not allowed: entries must not be written through a symlink`));

  it("rejects a hard link to a file that is not in the archive", () =>
    rejects([{ name: "h", type: "link", linkname: "../../etc/passwd" }], `tar entry "../../etc/passwd" is not allowed: names must not contain '..'`));

  it("rejects device files", () =>
    rejects([{ name: "dev", type: "character-device", devmajor: 1, devminor: 3 }], `tar entry "dev" is not allowed: entries of type character-device are not allowed`));

  it("rejects an archive over the byte limit", () =>
    rejects([{ name: "big", body: "x".repeat(100) }], `tar entry "big" is not allowed: the archive exceeds 10 bytes`, { maxBytes: 10, maxEntries: 10 }));

  it("rejects an archive over the entry limit", () =>
    rejects([{ name: "1", body: "" }, { name: "2", body: "" }], `tar entry "2" is not allowed: the archive exceeds 1 entries`, { maxBytes: 10, maxEntries: 1 }));

  it("rejects a truncated archive", async () => {
    const dir = await target();
    const bytes = (await tarOf([{ name: "f", body: "x".repeat(2000) }])).subarray(0, 1024);
    await assert.rejects(extractTar(Readable.from(bytes), dir, limits), (err: Error & { code?: string }) => {
      assert.equal(err.code, "invalidArgument");
      assert.match(err.message, /^tar archive is not valid: /);
      return true;
    });
    assert.equal(existsSync(dir), false);
  });

  it("stops and removes the target when cancelled", async () => {
    const dir = await target();
    const ac = new AbortController();
    const src = new Readable({ read() {} });
    const running = extractTar(src, dir, { ...limits, signal: ac.signal });
    src.push((await tarOf([{ name: "f", body: "x" }])).subarray(0, 512));
    ac.abort();
    await assert.rejects(running, (err: Error & { code?: string }) => {
      assert.equal(err.code, "canceled");
      assert.equal(err.message, "tar extraction was cancelled");
      return true;
    });
    assert.equal(existsSync(dir), false);
  });
});
