import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { extract, pack } from "tar-stream";
import { confineArchive } from "../../../libs/tar/archive-confiner.js";
import { encodeEntryHeader } from "../../../libs/tar/tar-writer.js";
import { appendInstruction, canInlineLabels, labelInstruction, labelOnlyContext } from "./label-instruction.js";

function tarOf(files: Record<string, string>): Readable {
  const p = pack();
  for (const [name, body] of Object.entries(files)) p.entry({ name, mode: 0o644 }, body);
  p.finalize();
  return p as unknown as Readable;
}

async function filesOf(tar: Readable): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const x = extract();
  x.on("entry", (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on("data", (b: unknown) => void chunks.push(b as Buffer));
    stream.on("end", () => {
      files[header.name] = Buffer.concat(chunks).toString("utf8");
      next();
    });
  });
  const done = new Promise<void>((res, rej) => {
    x.on("finish", res);
    x.on("error", rej);
  });
  tar.pipe(x);
  await done;
  return files;
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A confined context (as every build gets it) with a long name, a folder, a symlink, a hard link and bodies of odd sizes. */
async function confinedTar(): Promise<Buffer> {
  const p = pack();
  p.entry({ name: "app", type: "directory", mode: 0o755 });
  p.entry({ name: "app/run.sh", mode: 0o755 }, "#!/bin/sh\necho hi\n");
  p.entry({ name: `app/${"n".repeat(120)}/${"m".repeat(90)}.txt`, mode: 0o644 }, "x".repeat(1000));
  p.entry({ name: "app/link", type: "symlink", linkname: "run.sh" });
  p.entry({ name: "app/hard", type: "link", linkname: "app/run.sh" });
  p.entry({ name: "Containerfile", mode: 0o644 }, "FROM x\nCOPY app /app");
  p.finalize();
  return bytesOf(confineArchive(p as unknown as Readable));
}

const labels = { "buildplane.image-key": "abc123", "org.opencontainers.image.revision": "0123", "buildplane.build-id": "b_01" };

describe("label instruction", () => {
  it("writes every label in one LABEL instruction, keys sorted", () => {
    assert.equal(labelInstruction(labels), 'LABEL "buildplane.build-id"="b_01" "buildplane.image-key"="abc123" "org.opencontainers.image.revision"="0123"');
  });

  it("inlines only plain labels, more than one, and only when the last stage is built", () => {
    assert.equal(canInlineLabels(labels, ""), true);
    assert.equal(canInlineLabels(labels, "build"), false);
    assert.equal(canInlineLabels({ a: "1" }, ""), false);
    assert.equal(canInlineLabels({ ...labels, "org.opencontainers.image.source": "https://example.test/a b" }, ""), false);
    assert.equal(canInlineLabels({ ...labels, q: 'say "hi"' }, ""), false);
  });

  it("appends the instruction to the containerfile entry and keeps every other entry", async () => {
    const { stream, applied } = appendInstruction(tarOf({ "./main.sh": "echo hi\n", "./sub/Containerfile": "FROM x\nRUN true", "./z.txt": "z" }), "sub/Containerfile", "LABEL \"a\"=\"1\"");
    const files = await filesOf(stream);
    assert.equal(await applied, true);
    assert.deepEqual(files, { "./main.sh": "echo hi\n", "./sub/Containerfile": 'FROM x\nRUN true\nLABEL "a"="1"\n', "./z.txt": "z" });
  });

  it("leaves a containerfile whose last line continues unchanged and says so", async () => {
    const { stream, applied } = appendInstruction(tarOf({ Containerfile: "FROM x\nRUN echo \\\n" }), "Containerfile", "LABEL \"a\"=\"1\"");
    assert.deepEqual(await filesOf(stream), { Containerfile: "FROM x\nRUN echo \\\n" });
    assert.equal(await applied, false);
  });

  it("reports not applied when the context has no such containerfile", async () => {
    const { stream, applied } = appendInstruction(tarOf({ Dockerfile: "FROM x\n" }), "Containerfile", "LABEL \"a\"=\"1\"");
    assert.deepEqual(await filesOf(stream), { Dockerfile: "FROM x\n" });
    assert.equal(await applied, false);
  });

  it("makes a relabel context holding only FROM the built image", async () => {
    assert.deepEqual(await filesOf(labelOnlyContext("cli-app:0123456789abcdef")), { Containerfile: "FROM cli-app:0123456789abcdef\n" });
  });

  it("passes a confined archive through byte for byte when it has no such containerfile", async () => {
    const tar = await confinedTar();
    const { stream, applied } = appendInstruction(Readable.from([tar.subarray(0, 700), tar.subarray(700)]), "Dockerfile", 'LABEL "a"="1"');
    assert.ok((await bytesOf(stream)).equals(tar));
    assert.equal(await applied, false);
  });

  it("rewrites only the containerfile of a confined archive, every other entry as it was", async () => {
    const tar = await confinedTar();
    const { stream, applied } = appendInstruction(Readable.from([tar]), "Containerfile", 'LABEL "a"="1"');
    const files = await filesOf(stream);
    assert.equal(await applied, true);
    assert.equal(files["Containerfile"], 'FROM x\nCOPY app /app\nLABEL "a"="1"\n');
    assert.deepEqual(files, { ...(await filesOf(Readable.from([tar]))), Containerfile: 'FROM x\nCOPY app /app\nLABEL "a"="1"\n' });
  });

  it("passes a large file's body on as the very pieces it arrived in", async () => {
    const body = [Buffer.alloc(64 * 1024, 1), Buffer.alloc(64 * 1024, 2), Buffer.alloc(64 * 1024, 3)];
    const header = encodeEntryHeader({ type: "file", path: "big.bin", mode: 0o644, size: 3 * 64 * 1024, mtime: 0 });
    const { stream } = appendInstruction(Readable.from([header, ...body, Buffer.alloc(1024)]), "Containerfile", 'LABEL "a"="1"');
    // Flowing, as a pipe to the engine reads it (a paused read() would join what is buffered).
    const out: Buffer[] = [];
    stream.on("data", (c: Buffer) => void out.push(c));
    await new Promise((resolve, reject) => stream.on("end", resolve).on("error", reject));
    assert.deepEqual(
      body.map((b) => out.some((o) => o === b || (o.buffer === b.buffer && o.byteOffset === b.byteOffset && o.length === b.length))),
      [true, true, true],
    );
  });

  it("refuses an entry type a confined archive does not hold, naming the entry", async () => {
    const p = pack();
    p.entry({ name: "fifo", type: "fifo" });
    p.finalize();
    const { stream, applied } = appendInstruction(p as unknown as Readable, "Containerfile", 'LABEL "a"="1"');
    await assert.rejects(bytesOf(stream), (err: Error & { code?: string }) => {
      assert.equal(err.code, "invalidArgument");
      assert.equal(err.message, 'archive is not a valid tar: entry "fifo" has type "6", which a confined archive does not hold');
      return true;
    });
    assert.equal(await applied, false);
  });
});
