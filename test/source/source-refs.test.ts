import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { observeGitSpawns } from "../../libs/git/run-git.js";
import { git, startGitDaemon } from "./git-fixtures.js";
import { makeServedRepo, sourceClient, tempDir } from "./source-harness.js";

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

function rejectsWith(p: Promise<unknown>, code: Code, message: string): Promise<void> {
  return assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, code);
    assert.equal(err.rawMessage, message);
    return true;
  });
}

describe("source service: refs over git://", () => {
  let url = "";
  let work = "";
  let first = "";
  let bare = "";
  before(async () => {
    const base = tempDir("src-base-", cleanups);
    work = tempDir("src-work-", cleanups);
    ({ first, bare } = makeServedRepo(base, work));
    const daemon = await startGitDaemon(base);
    cleanups.push(daemon.stop);
    url = daemon.url("app.git");
  });

  it("resolves a branch, a lightweight tag, an annotated tag (peeled), a full and a short sha", async () => {
    const client = sourceClient(tempDir("src-data-", cleanups));
    const resolve = async (ref: string) => (await client.resolveRevision({ source: { repository: url, ref } })).commit;
    assert.equal(await resolve("main"), first);
    assert.equal(await resolve(""), first);
    assert.equal(await resolve("v1"), first);
    assert.equal(await resolve("v1a"), first);
    assert.equal(await resolve(first), first);
    assert.equal(await resolve(first.slice(0, 8)), first);
  });

  it("returns NotFound naming the ref and the repository when the ref does not exist", async () => {
    const client = sourceClient(tempDir("src-data-", cleanups));
    await rejectsWith(client.resolveRevision({ source: { repository: url, ref: "nope" } }), Code.NotFound,
      `ref "nope" was not found in repository "${url}": expected a branch, tag or commit sha`);
  });

  it("returns NotFound for a commit sha the repository does not have", async () => {
    const client = sourceClient(tempDir("src-data-", cleanups));
    const sha = "0".repeat(40);
    await rejectsWith(client.describe({ source: { repository: url }, commit: sha }), Code.NotFound,
      `ref "${sha}" was not found in repository "${url}": expected a branch, tag or commit sha`);
  });

  it("returns NotFound for an unknown repository", async () => {
    const client = sourceClient(tempDir("src-data-", cleanups));
    const missing = url.replace("app.git", "missing.git");
    await rejectsWith(client.resolveRevision({ source: { repository: missing, ref: "main" } }), Code.NotFound,
      `repository "${missing}" was not found: expected a reachable git repository`);
  });

  it("returns InvalidArgument for a folder or containerfile that leaves the repository", async () => {
    const client = sourceClient(tempDir("src-data-", cleanups));
    await rejectsWith(client.describe({ source: { repository: url, dir: "app/../.." }, commit: first }), Code.InvalidArgument,
      `dir "app/../.." is not valid: expected a relative path inside the repository, without '..'`);
    await rejectsWith(client.describe({ source: { repository: url, dir: "/etc" }, commit: first }), Code.InvalidArgument,
      `dir "/etc" is not valid: expected a relative path inside the repository, without '..'`);
    await rejectsWith(client.describe({ source: { repository: url, dir: "app" }, commit: first, containerfile: "../Dockerfile" }), Code.InvalidArgument,
      `containerfile "../Dockerfile" is not valid: expected a relative path inside the repository, without '..'`);
  });

  it("fetches once for ten concurrent requests and keeps the tree hash for a commit outside the folder", async () => {
    const client = sourceClient(tempDir("src-data-", cleanups));
    const fetches: string[][] = [];
    const stop = observeGitSpawns((argv) => { if (argv[1] === "fetch") fetches.push([...argv]); });
    try {
      const all = await Promise.all(Array.from({ length: 10 }, () => client.describe({ source: { repository: url, dir: "app" }, commit: first })));
      assert.equal(fetches.length, 1);
      assert.equal(new Set(all.map((d) => d.treeHash)).size, 1);
      const d = all[0]!;
      assert.equal(d.treeHash, git(work, "rev-parse", `${first}:app`));
      assert.equal(d.containerfile, "Containerfile");
      assert.deepEqual(d.ignoreRules, ["*.log", "secret-dir", "!secret-dir/keep.txt", "Containerfile"]);
      git(work, "commit", "-q", "--allow-empty", "-m", "outside");
      git(work, "push", "-q", bare, "main");
      const next = (await client.resolveRevision({ source: { repository: url, ref: "main" } })).commit;
      assert.notEqual(next, first);
      const again = await client.describe({ source: { repository: url, dir: "app" }, commit: next });
      assert.equal(again.treeHash, d.treeHash);
    } finally {
      stop();
    }
  });
});
