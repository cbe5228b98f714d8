import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { parseRepository } from "../../libs/git/git-url.js";
import { createMirrorCache } from "../../libs/git/mirror-cache.js";

describe("mirror cache eviction", () => {
  let first: TestGitRepo;
  let second: TestGitRepo;
  let data: TempDir;
  before(async () => {
    first = await makeGitRepo({ "app/Containerfile": "FROM scratch\n" });
    second = await makeGitRepo({ "web/Containerfile": "FROM scratch\n" });
    data = await tempDir("buildplane-mirrors-");
  });
  after(async () => {
    await first.remove();
    await second.remove();
    await data.remove();
  });

  test("a repository asked for again while its evicted mirror is being deleted waits for the deletion, then fetches into a new mirror", { timeout: 60_000 }, async () => {
    // Eviction's deletion is held open until the test lets it go, so the
    // second request for `first` lands exactly while its folder is going.
    let letGo!: () => void;
    const gate = new Promise<void>((r) => (letGo = r));
    let deleting!: (dir: string) => void;
    const deletionStarted = new Promise<string>((r) => (deleting = r));
    const cache = createMirrorCache({
      root: join(data.path, "git"),
      maxEntries: 1,
      timeoutMs: 0,
      removeDir: async (dir) => {
        deleting(dir);
        await gate;
        await rm(dir, { recursive: true, force: true });
      },
    });
    const a = parseRepository(first.url);
    const b = parseRepository(second.url);

    const lease1 = await cache.acquire(a, undefined);
    assert.equal(await lease1.ensureCommit(first.commit), first.commit);
    const firstDir = lease1.dir;
    lease1.release();

    const leaseB = cache.acquire(b, undefined);
    assert.equal(await deletionStarted, firstDir, "taking a second repository evicts the first (bound 1)");
    let settled = false;
    const lease2 = cache.acquire(a, undefined).finally(() => (settled = true));
    // Long enough to mean it: acquiring takes a few ms when nothing blocks it.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(settled, false, "the new request waits while the old folder is being deleted");
    assert.equal(existsSync(join(firstDir, "HEAD")), true);

    letGo();
    const again = await lease2;
    assert.equal(again.dir, firstDir);
    assert.equal(await again.ensureCommit(first.commit), first.commit, "the commit is fetched into the new mirror");
    assert.equal(existsSync(join(firstDir, "HEAD")), true, "the new mirror survived the old one's deletion");
    again.release();
    (await leaseB).release();
  });
});
