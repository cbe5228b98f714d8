import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { extract, pack } from "tar-stream";
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
});
