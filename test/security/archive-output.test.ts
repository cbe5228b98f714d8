import assert from "node:assert/strict";
import { lstat, mkdir, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { confineArchive } from "../../libs/tar/archive-confiner.js";
import { runCommand } from "../helpers/run-command.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { archive, dir, file, gnuLong, hardlink, pax, symlink } from "./fixtures/raw-tar.js";

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("the confined output read by GNU tar", () => {
  let ws: TempDir;
  before(async () => {
    ws = await tempDir("archive-output-");
  });
  after(() => ws.remove());

  const long = `${"l".repeat(130)}/${"n".repeat(140)}.txt`;
  const longTarget = `${"../".repeat(1)}${"t".repeat(120)}`;
  const input = archive(
    dir("./"),
    dir("app/", { uid: 1000, uname: "dev" }),
    file("app/run.sh", "#!/bin/sh\n", { mode: 0o1755 }),
    pax([["path", long], ["SCHILY.xattr.user.note", "dropped"]]), file("ignored-short-name", "long"),
    gnuLong("K", longTarget), symlink("app/far", "x"),
    symlink("app/near", "run.sh"),
    hardlink("copy.sh", "app/run.sh"),
  );

  it("unpacks to the entries the archive declared, with long names, links and permission bits", async () => {
    const tarPath = join(ws.path, "confined.tar");
    await writeFile(tarPath, await drain(confineArchive(Readable.from([input]))));
    const out = join(ws.path, "out");
    await mkdir(out);
    await runCommand("tar", ["-xf", tarPath, "-C", out]);
    assert.equal((await lstat(join(out, "app/run.sh"))).mode & 0o7777, 0o755, "the sticky bit is dropped");
    assert.equal(await readFile(join(out, long), "utf8"), "long");
    assert.equal(await readlink(join(out, "app/far")), longTarget);
    assert.equal(await readlink(join(out, "app/near")), "run.sh");
    assert.equal((await lstat(join(out, "copy.sh"))).ino, (await lstat(join(out, "app/run.sh"))).ino);
  });

  it("lists owner 0:0 without names and no extension record of the input", async () => {
    const tarPath = join(ws.path, "listed.tar");
    await writeFile(tarPath, await drain(confineArchive(Readable.from([input]))));
    const { stdout } = await runCommand("tar", ["--numeric-owner", "--xattrs", "-tvf", tarPath]);
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, 6);
    for (const line of lines) assert.match(line, /^\S+\s+0\/0\s/);
    assert.doesNotMatch(stdout, /dropped|ignored-short-name|PaxHeader|LongLink/);
  });
});
