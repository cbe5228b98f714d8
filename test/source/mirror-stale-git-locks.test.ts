import assert from "node:assert/strict";
import { utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { parseRepository } from "../../libs/git/git-url.js";
import { createMirrorCache } from "../../libs/git/mirror-cache.js";

describe("mirror left behind by a killed git", () => {
  let repo: TestGitRepo;
  let data: TempDir;
  before(async () => {
    repo = await makeGitRepo({ "app/Containerfile": "FROM scratch\n" });
    data = await tempDir("buildplane-stale-git-locks-");
  });
  after(async () => {
    await repo.remove();
    await data.remove();
  });

  test("fetches a new commit although a killed fetch left an old ref lock file in the mirror", { timeout: 60_000 }, async () => {
    const cache = createMirrorCache({ root: join(data.path, "git"), maxEntries: 4, timeoutMs: 0, lockStaleMs: 2000 });
    const r = parseRepository(repo.url);
    const lease = await cache.acquire(r, undefined);
    try {
      assert.equal(await lease.ensureCommit(repo.commit), repo.commit);
      // What git leaves when it is SIGKILLed while updating `main`.
      const left = join(lease.dir, "refs", "heads", "main.lock");
      await writeFile(left, `${repo.commit}\n`);
      const hourAgo = new Date(Date.now() - 3600_000);
      await utimes(left, hourAgo, hourAgo);
      const next = await repo.commitFiles({ "app/Containerfile": "FROM scratch\nLABEL v=2\n" });
      assert.equal(await lease.ensureCommit(next), next);
    } finally {
      lease.release();
    }
  });
});
