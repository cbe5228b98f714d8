import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { lstat, mkdir, readFile, readlink, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { archive, dir, file, hardlink, rawHeader, symlink } from "../../test/security/fixtures/raw-tar.js";
import { tempDir, type TempDir } from "../../test/helpers/temp-dir.js";
import { extractConfined } from "./extract-confined.js";

describe("extractConfined", () => {
  let ws: TempDir;
  let n = 0;
  before(async () => {
    ws = await tempDir("extract-confined-");
  });
  after(() => ws.remove());
  const target = (): string => join(ws.path, String(++n), "out");

  it("writes files, folders, modes, inner symlinks and hard links", async () => {
    const out = target();
    const result = await extractConfined(Readable.from([archive(
      dir("./"), dir("a/", { mode: 0o750 }), file("a/run.sh", "#!/bin/sh\n", { mode: 0o755 }), symlink("a/link", "run.sh"),
      file("b.txt", "hello", { mode: 0o600 }), hardlink("hard", "b.txt"), file("deep/er/c.txt", "c"),
    )]), out);
    assert.deepEqual(result, { entries: 7, bytes: 16 });
    assert.equal((await stat(join(out, "a"))).mode & 0o7777, 0o750);
    assert.equal((await lstat(join(out, "a/run.sh"))).mode & 0o7777, 0o755);
    assert.equal(await readlink(join(out, "a/link")), "run.sh");
    assert.equal(await readFile(join(out, "hard"), "utf8"), "hello");
    assert.equal((await stat(join(out, "hard"))).ino, (await stat(join(out, "b.txt"))).ino);
    assert.equal(await readFile(join(out, "deep/er/c.txt"), "utf8"), "c");
  });

  it("stops reading at the end-of-archive marker and releases the input", async () => {
    const out = target();
    const input = new PassThrough();
    input.write(archive(file("a.txt", "a")));
    const result = await extractConfined(input, out);
    assert.deepEqual(result, { entries: 1, bytes: 1 });
    assert.equal(await readFile(join(out, "a.txt"), "utf8"), "a");
    assert.equal(input.destroyed, true);
  });

  it("refuses an entry by the archive rules and removes the target", async () => {
    const out = target();
    await assert.rejects(extractConfined(Readable.from([archive(file("ok", "x"), symlink("l", "."), file("l/x", "y"))]), out), {
      code: "invalidArgument",
      message: `archive entry "l/x": path goes through the symlink "l"`,
    });
    assert.equal(existsSync(out), false);
  });

  it("applies the limits it is given", async () => {
    const out = target();
    await assert.rejects(extractConfined(Readable.from([archive(file("a"), file("b"))]), out, { maxEntries: 1 }), {
      code: "resourceExhausted",
      message: `archive entry "b": the archive has more than 1 entries`,
    });
    assert.equal(existsSync(out), false);
  });

  it("refuses a target folder that already holds files, and leaves it alone", async () => {
    const out = target();
    await mkdir(out, { recursive: true });
    await writeFile(join(out, "mine"), "keep");
    await assert.rejects(extractConfined(Readable.from([archive(file("a"))]), out), {
      code: "failedPrecondition",
      message: `extraction folder ${JSON.stringify(out)} is not empty: expected a new or empty folder`,
    });
    assert.equal(await readFile(join(out, "mine"), "utf8"), "keep");
  });

  it("refuses a truncated archive and removes the target", async () => {
    const out = target();
    await assert.rejects(extractConfined(Readable.from([file("f", "x".repeat(2000)).subarray(0, 1024)]), out), {
      code: "invalidArgument",
      message: "archive is not a valid tar: it ends early, at byte 1024",
    });
    assert.equal(existsSync(out), false);
  });

  it("stops and removes the target when canceled", async () => {
    const out = target();
    const ac = new AbortController();
    const input = new PassThrough();
    const running = extractConfined(input, out, {}, ac.signal);
    input.write(rawHeader({ name: "f", size: 4096 }));
    input.write(Buffer.alloc(512));
    while (!existsSync(join(out, "f"))) await new Promise((resolve) => setImmediate(resolve));
    ac.abort();
    await assert.rejects(running, { code: "canceled", message: "reading the archive was canceled" });
    assert.equal(existsSync(out), false);
    assert.equal(input.destroyed, true);
  });
});
