import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { runCommand } from "../helpers/run-command.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { makeAppRepo, removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, listBuilds, runCli } from "../e2e/cli-process.js";
import { startServe, type ServeProcess } from "../rpc/serve-process.js";
import type { TestGitRepo } from "../helpers/make-git-repo.js";
import { logTexts, missingFrom, storedLog } from "./fault-kit.js";

const limit = { timeout: 240_000 };

/** Every file under `dir` (relative paths), skipping `skip`. */
async function filesUnder(dir: string, skip: (rel: string) => boolean = () => false): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const rel = join(entry.parentPath, entry.name).slice(dir.length + 1);
    if (entry.isFile() && !skip(rel)) out.push(rel);
  }
  return out.sort();
}

/** Writes zeros to `file` until the file system has no space left. */
async function fillDisk(file: string): Promise<void> {
  await runCommand("dd", ["if=/dev/zero", `of=${file}`, "bs=64k"]).catch(() => undefined);
  const out = await runCommand("df", ["--output=avail", "-B1", file]);
  assert.equal(Number(out.stdout.split("\n")[1]?.trim()), 0, "the disk is full");
}

describe("the data dir's disk full (a 24 MB tmpfs)", () => {
  let repo: TestGitRepo & { readonly nonce: string };
  let mount: TempDir;
  let client: TempDir;
  let server: ServeProcess;
  let env: NodeJS.ProcessEnv;
  let dataDir: string;
  const filler = () => join(mount.path, "filler");
  const images: string[] = [];
  before(async () => {
    repo = await makeAppRepo();
    mount = await tempDir("buildplane-fault-disk-");
    client = await tempDir("buildplane-fault-client-");
    await runCommand("mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", mount.path]);
    dataDir = join(mount.path, "data");
    env = cliEnv(dataDir, { BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path });
    server = await startServe([], env);
  });
  after(async () => {
    server?.kill();
    await server?.exited;
    await removeImages("docker", images);
    await runCommand("umount", [mount.path]).catch(() => undefined);
    await repo.remove();
    await mount.remove();
    await client.remove();
  });

  test("a fetch into a full disk fails with resource_exhausted naming the data dir, leaves no partial file, and the next build after space returns works", limit, async () => {
    const args = ["build", repo.url, "--dir", "app", "--json", "--server", server.url];
    const first = await runCli(args, cliEnv(client.path));
    assert.equal(first.code, 0, describeRun(first));
    images.push(String(first.last?.["image"]));
    // The database and the marks of this server's live mirror readers change; the mirror itself must not.
    const content = (rel: string) => rel.startsWith("buildplane.db") || rel.startsWith("git/readers/");
    const before = await filesUnder(dataDir, content);

    // A new commit with a large file: fetching it needs space the disk no longer has.
    await repo.commitFiles({ "app/big.bin": randomBytes(1_500_000).toString("hex"), "app/nonce.txt": `${repo.nonce}-2\n` });
    await fillDisk(filler());
    const refused = await runCli(args, cliEnv(client.path));
    assert.equal(refused.code, 1, describeRun(refused));
    assert.equal(refused.last?.type, "failed", describeRun(refused));
    assert.equal(refused.last["code"], "resource_exhausted", describeRun(refused));
    assert.match(
      String(refused.last["message"]),
      new RegExp(`^the disk of the data dir ${dataDir} \\(\\[system\\] data_dir\\) is full: no space left on device \\(git fetch for repository "${repo.url}" failed: .*No space left on device.*\\); free space there and retry$`),
    );
    assert.doesNotMatch(server.stderr(), /NGHTTP2|unexpected error in rpc handler/);

    // Nothing half-written: the mirror holds what it held (no temporary pack, no new ref), and git finds it whole.
    assert.deepEqual(await filesUnder(dataDir, content), before);
    const mirrors = (await readdir(join(dataDir, "git"))).filter((n) => /^[0-9a-f]{64}$/.test(n));
    assert.equal(mirrors.length, 1);
    for (const m of mirrors) await runCommand("git", ["--git-dir", join(dataDir, "git", m), "fsck", "--no-progress"]);
    await rm(filler());

    const next = await runCli(args, cliEnv(client.path));
    assert.equal(next.code, 0, describeRun(next));
    assert.equal(next.last?.type, "ready", describeRun(next));
    assert.equal(next.last["cached"], false);
    images.push(String(next.last["image"]));

    const records = await listBuilds(env);
    assert.deepEqual(records.map((r) => [r.id, r.status]), [[next.last["buildId"], "succeeded"], [first.last?.["buildId"], "succeeded"]]);
    assert.deepEqual(missingFrom(await storedLog(env, String(first.last?.["buildId"])), logTexts(first.events)), []);
    assert.deepEqual(missingFrom(await storedLog(env, String(next.last["buildId"])), logTexts(next.events)), []);
    const db = new Database(join(dataDir, "buildplane.db"), { readonly: true });
    try {
      assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    } finally {
      db.close();
    }
  });
});
