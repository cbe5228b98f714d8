import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { git } from "./git-fixtures.js";
import { makeServedRepo, sourceClient, tempDir } from "./source-harness.js";

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

/** The folder of the anonymous mirror of a local repository. */
function mirrorDir(data: string, repository: string): string {
  return join(data, "git", createHash("sha256").update(`${repository}\n`).digest("hex"));
}

describe("source service: bounded mirror cache", () => {
  const repos: string[] = [];
  let first = "";
  before(() => {
    const base = tempDir("lru-base-", cleanups);
    const work = tempDir("lru-work-", cleanups);
    makeServedRepo(base, work);
    // A context big enough to be read in many pieces.
    writeFileSync(join(work, "app/big.bin"), Buffer.alloc(8 * 1024 * 1024, 1));
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", "big");
    first = git(work, "rev-parse", "HEAD");
    for (let i = 0; i < 4; i++) {
      const bare = join(base, `repo-${i}.git`);
      git(base, "clone", "-q", "--bare", work, bare);
      repos.push(bare);
    }
  });

  it("evicts the least recently used mirror when one more repository than the bound is fetched", { timeout: 120_000 }, async () => {
    const data = tempDir("lru-data-", cleanups);
    const client = sourceClient(data, { entries: 3 });
    const use = async (i: number) => {
      const d = await client.describe({ source: { repository: repos[i], dir: "app" }, commit: first });
      assert.equal(d.commit, first);
    };
    const present = () => repos.map((r) => existsSync(mirrorDir(data, r)));
    await use(0);
    await use(1);
    await use(2);
    assert.deepEqual(present(), [true, true, true, false]);
    await use(0);
    await use(3);
    assert.deepEqual(present(), [true, false, true, true]);
    await use(1);
    assert.deepEqual(present(), [true, true, false, true]);
  });

  it("never evicts a mirror that a running StreamContext is reading", { timeout: 120_000 }, async () => {
    const data = tempDir("lru-data-", cleanups);
    const client = sourceClient(data, { entries: 2 });
    const stream = client.streamContext({ source: { repository: repos[0], dir: "app" }, commit: first, withSha256: true })[Symbol.asyncIterator]();
    const head = await stream.next();
    assert.equal(head.done, false);
    const chunks: Buffer[] = [Buffer.from(head.value.chunk)];
    for (const i of [1, 2, 3]) await client.describe({ source: { repository: repos[i], dir: "app" }, commit: first });
    const present = () => repos.map((r) => existsSync(mirrorDir(data, r)));
    // repo-0 is the least recently used but in use: repo-1, then repo-2, went instead.
    assert.deepEqual(present(), [true, false, false, true]);
    let sha256 = "";
    for (let r = await stream.next(); r.done !== true; r = await stream.next()) {
      if (r.value.chunk.length > 0) chunks.push(Buffer.from(r.value.chunk));
      else sha256 = r.value.sha256;
    }
    const tar = Buffer.concat(chunks);
    assert.ok(tar.length > 8 * 1024 * 1024);
    assert.equal(sha256, createHash("sha256").update(tar).digest("hex"));
    let again = "";
    for await (const m of sourceClient(tempDir("lru-data-", cleanups)).streamContext({ source: { repository: repos[0], dir: "app" }, commit: first, withSha256: true })) {
      if (m.chunk.length === 0) again = m.sha256;
    }
    assert.equal(sha256, again);
    assert.deepEqual(present(), [true, false, false, true]);
  });
});
