import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { parseRepository } from "../../libs/git/git-url.js";
import { createMirrorCache } from "../../libs/git/mirror-cache.js";
import { lookupPath } from "../../libs/git/tree-entries.js";
import { startFixture, type ProcessOutcome } from "./process-group.js";

const limit = { timeout: 120_000 };

describe("mirror eviction by another process", () => {
  let read: TestGitRepo;
  let other: TestGitRepo;
  let data: TempDir;
  before(async () => {
    read = await makeGitRepo({ "app/Containerfile": "FROM scratch\n" });
    other = await makeGitRepo({ "web/Containerfile": "FROM scratch\n" });
    data = await tempDir("buildplane-evict-processes-");
  });
  after(async () => {
    await read.remove();
    await other.remove();
    await data.remove();
  });

  /** Another process that keeps one mirror: it fetches `other`, which evicts every idle mirror it knows. */
  const otherProcessFetches = async (): Promise<ProcessOutcome> => {
    const p = await startFixture(["fetch", join(data.path, "git"), other.url, other.commit, "10000", "1"]);
    p.go();
    return p.outcome;
  };

  test("keeps a mirror this process is reading when another process evicts, and deletes it once it is released", limit, async () => {
    const cache = createMirrorCache({ root: join(data.path, "git"), maxEntries: 4, timeoutMs: 0 });
    const lease = await cache.acquire(parseRepository(read.url), undefined);
    const dir = lease.dir;
    try {
      assert.equal(await lease.ensureCommit(read.commit), read.commit);
      const during = await otherProcessFetches();
      assert.deepEqual({ exitCode: during.exitCode, error: during.result["error"] }, { exitCode: 0, error: undefined });
      assert.equal(existsSync(join(dir, "HEAD")), true, "the mirror being read is still there");
      const entry = await lookupPath(dir, read.url, read.commit, "app/Containerfile");
      assert.equal(entry?.type, "blob", "and still readable");
    } finally {
      lease.release();
      await cache.settled();
    }
    const afterwards = await otherProcessFetches();
    assert.equal(afterwards.exitCode, 0);
    assert.equal(existsSync(dir), false, "once nobody reads it, the other process evicts it");
  });
});
