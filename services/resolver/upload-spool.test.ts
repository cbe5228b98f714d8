import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { describeFolder, folderContext } from "../source/folder-source.js";
import { spoolUpload } from "./upload-spool.js";

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function folder(): Promise<{ src: string; tmp: string }> {
  const root = await mkdtemp(join(tmpdir(), "buildplane-spool-test-"));
  roots.push(root);
  const src = join(root, "src");
  const tmp = join(root, "tmp");
  await mkdir(join(src, "app/lib/deep"), { recursive: true });
  await writeFile(join(src, "app/Containerfile"), "FROM local/busybox:1\nCOPY . /src\n");
  await writeFile(join(src, "app/.dockerignore"), "*.log\nlib/deep\n!lib/deep/kept.txt\n");
  await writeFile(join(src, "app/run.sh"), "#!/bin/sh\necho hi\n");
  await chmod(join(src, "app/run.sh"), 0o755);
  await writeFile(join(src, "app/notes.log"), "dropped\n");
  await writeFile(join(src, "app/lib/deep/kept.txt"), "kept\n");
  await writeFile(join(src, "app/lib/deep/gone.txt"), "dropped\n");
  await writeFile(join(src, "app/lib/a.txt"), "a".repeat(200_000));
  await symlink("lib/a.txt", join(src, "app/link"));
  return { src, tmp };
}

/** True once `dir` no longer exists. */
async function gone(dir: string): Promise<boolean> {
  return readdir(dir).then(() => false, () => true);
}

async function* iterate(chunks: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe("spoolUpload", () => {
  it("hashes an uploaded folder context to the tree hash the source service gives the same folder, and keeps the very bytes it packs", async () => {
    const { src, tmp } = await folder();
    const described = await describeFolder(src, "app", "");
    const sent = await collect(folderContext(src, "app", described.containerfile));
    const spooled = await spoolUpload(iterate(folderContext(src, "app", described.containerfile)), { maxBytes: 10_000_000, timeoutSecs: 30, tmpDir: tmp }, new AbortController().signal);
    try {
      assert.equal(spooled.treeHash, described.treeHash);
      assert.deepEqual([...spooled.files].sort(), [".dockerignore", "Containerfile", "lib/a.txt", "lib/deep/kept.txt", "run.sh"]);
      assert.equal(spooled.bytes, sent.length);
      assert.ok((await collect(spooled.chunks(new AbortController().signal))).equals(sent), "the rewritten tar is the one a local build streams");
      const [spool] = await readdir(tmp);
      assert.match(spool ?? "", /^upload@.+@\d+@[A-Za-z0-9]{6}$/, "an owned folder, swept after a crash");
    } finally {
      await spooled.dispose();
    }
    assert.equal(await gone(tmp), true, "the spool and its emptied root are removed");
  });

  it("gives another hash when one byte of one file differs", async () => {
    const { src, tmp } = await folder();
    const before = await describeFolder(src, "app", "");
    await writeFile(join(src, "app/lib/deep/kept.txt"), "kepT\n");
    const spooled = await spoolUpload(iterate(folderContext(src, "app", "Containerfile")), { maxBytes: 10_000_000, timeoutSecs: 30, tmpDir: tmp }, new AbortController().signal);
    await spooled.dispose();
    assert.notEqual(spooled.treeHash, before.treeHash);
    assert.equal(spooled.treeHash, (await describeFolder(src, "app", "")).treeHash);
  });

  it("refuses an upload past maxBytes with resourceExhausted naming the limit, and removes the spool", async () => {
    const { src, tmp } = await folder();
    await assert.rejects(
      spoolUpload(iterate(folderContext(src, "app", "Containerfile")), { maxBytes: 100_000, timeoutSecs: 30, tmpDir: tmp }, new AbortController().signal),
      { code: "resourceExhausted", message: "uploaded build context is larger than builder.max_upload_bytes (100000 bytes): shrink the context (.dockerignore) or raise the limit" },
    );
    assert.equal(await gone(tmp), true, "the spool and its emptied root are removed");
  });

  it("refuses an upload that does not end within the time limit with deadlineExceeded, and removes the spool", async () => {
    const { tmp } = await folder();
    async function* stalls(): AsyncGenerator<Uint8Array> {
      yield Buffer.alloc(512);
      await new Promise(() => undefined);
    }
    await assert.rejects(spoolUpload(stalls(), { maxBytes: 10_000, timeoutSecs: 1, tmpDir: tmp }, new AbortController().signal), {
      code: "deadlineExceeded",
      message: "build context upload did not finish within builder.upload_timeout_secs (1 s): send a smaller context or raise the limit",
    });
    assert.equal(await gone(tmp), true, "the spool and its emptied root are removed");
  });

  it("refuses a truncated tar with invalidArgument, and removes the spool", async () => {
    const { src, tmp } = await folder();
    const whole = await collect(folderContext(src, "app", "Containerfile"));
    async function* cut(): AsyncGenerator<Uint8Array> {
      yield whole.subarray(0, 3000);
    }
    await assert.rejects(spoolUpload(cut(), { maxBytes: 10_000_000, timeoutSecs: 30, tmpDir: tmp }, new AbortController().signal), (err: Error & { code?: string }) => {
      assert.equal(err.code, "invalidArgument");
      assert.match(err.message, /^uploaded context is not a valid tar archive: /);
      return true;
    });
    assert.equal(await gone(tmp), true, "the spool and its emptied root are removed");
  });
});
