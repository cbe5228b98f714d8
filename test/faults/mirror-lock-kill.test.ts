import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseRepository } from "../../libs/git/git-url.js";
import { createMirrorCache } from "../../libs/git/mirror-cache.js";
import { startGatedGitProxy } from "../source/gated-git-proxy.js";
import { startGitDaemon } from "../source/git-fixtures.js";
import { makeServedRepo, tempDir } from "../source/source-harness.js";
import { startFixture } from "./process-group.js";

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const staleMs = 3000;

/** Ids of live processes whose working folder is under `root`. */
function gitsWorkingIn(root: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(root)) found.push(Number(pid));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}
/** Far above the stale period: only a takeover of the dead holder's lock finishes sooner. */
const waitMs = 60_000;

describe("a process killed while it holds a mirror lock", () => {
  test("blocks another process's fetch of that mirror for no longer than the stale period", { timeout: 120_000 }, async () => {
    const base = tempDir("kill-git-", cleanups);
    const { first } = makeServedRepo(base, tempDir("kill-work-", cleanups));
    const daemon = await startGitDaemon(base);
    cleanups.push(daemon.stop);
    const proxy = await startGatedGitProxy(Number(new URL(daemon.url("app.git")).port));
    cleanups.push(proxy.stop);
    const url = proxy.url("app.git");
    const root = join(tempDir("kill-data-", cleanups), "git");

    // The child fetches through the closed proxy: it holds the fetch lock, waiting for an answer.
    const holder = await startFixture(["fetch", root, url, first, String(staleMs)]);
    holder.go();
    await proxy.arrived(1);
    const key = createHash("sha256").update(`${parseRepository(url).url}\n`).digest("hex");
    assert.equal(existsSync(join(root, "locks", `${key}.fetch`)), true, "the child holds the mirror's fetch lock");
    // The whole process dies, its git child too (git runs in a group of its own), as in a container kill.
    const gits = gitsWorkingIn(root);
    assert.equal(gits.length, 1, "the child's git fetch is running");
    process.kill(holder.child.pid ?? 0, "SIGKILL");
    for (const pid of gits) process.kill(pid, "SIGKILL");
    const ended = await holder.outcome;
    assert.equal(ended.signal, "SIGKILL");
    await proxy.allClosed();
    proxy.open();

    const killedAt = Date.now();
    const mirrors = createMirrorCache({ root, maxEntries: 4, timeoutMs: 0, lockStaleMs: staleMs, lockWaitMs: waitMs });
    const lease = await mirrors.acquire(parseRepository(url), undefined);
    try {
      assert.equal(await lease.ensureCommit(first), first);
    } finally {
      lease.release();
    }
    const waited = Date.now() - killedAt;
    assert.ok(waited < staleMs + 10_000, `the dead holder's lock was taken over after ${waited} ms: expected about ${staleMs} ms`);
    assert.equal(proxy.accepted, 2, "the killed fetch and the new one; no other");
  });
});
