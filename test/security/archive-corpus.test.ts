import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { confineArchive } from "../../libs/tar/archive-confiner.js";
import { extractConfined } from "../../libs/tar/extract-confined.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { hostileArchives } from "./fixtures/hostile-archives.js";

/** Everything under `root`, as sorted relative paths. */
async function tree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.map(String).sort();
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function refusal(code: string, message: string) {
  return (err: Error & { code?: unknown }): boolean => {
    assert.equal(err.message, message);
    assert.equal(err.code, code);
    return true;
  };
}

describe("the hostile archive corpus", () => {
  let ws: TempDir;
  before(async () => {
    ws = await tempDir("archive-corpus-");
  });
  after(() => ws.remove());

  for (const [i, sample] of hostileArchives().entries()) {
    it(`refuses ${sample.attack} in the confined stream, naming the entry and the rule`, async () => {
      await assert.rejects(drain(confineArchive(Readable.from([sample.bytes]), sample.limits)), refusal(sample.code, sample.message));
    });

    it(`refuses ${sample.attack} when extracting, writing nothing outside the target`, async () => {
      // <case>/canary/keep.txt beside <case>/one/two/target: every escape of the corpus lands under <case>.
      const base = join(ws.path, String(i));
      await mkdir(join(base, "canary"), { recursive: true });
      await writeFile(join(base, "canary", "keep.txt"), "canary");
      const target = join(base, "one", "two", "target");
      await assert.rejects(extractConfined(Readable.from([sample.bytes]), target, sample.limits), refusal(sample.code, sample.message));
      assert.equal(existsSync(target), false, "the partial target is removed");
      assert.deepEqual(await tree(base), ["canary", "canary/keep.txt", "one", "one/two"]);
      assert.equal(await readFile(join(base, "canary", "keep.txt"), "utf8"), "canary");
    });
  }
});
