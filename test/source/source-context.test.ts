import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { TAR_CHUNK } from "../../libs/tar/deterministic-tar.js";
import { extractConfined } from "../../libs/tar/extract-confined.js";
import { addHistory, git, startGitDaemon, startHttpGit } from "./git-fixtures.js";
import { makeServedRepo, sourceClient, tempDir, writeFixtureTree } from "./source-harness.js";

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function collect(client: Client<typeof SourceService>, req: Parameters<Client<typeof SourceService>["streamContext"]>[0]) {
  const chunks: Buffer[] = [];
  let last = { totalBytes: 0n, sha256: "" };
  for await (const m of client.streamContext(req)) {
    if (m.chunk.length > 0) chunks.push(Buffer.from(m.chunk));
    else last = { totalBytes: m.totalBytes, sha256: m.sha256 };
  }
  return { chunks, tar: Buffer.concat(chunks), ...last };
}

describe("source service: build contexts", () => {
  let base = "", work = "", bare = "", first = "", daemonUrl = "", httpUrl = "";
  before(async () => {
    base = tempDir("ctx-base-", cleanups);
    work = tempDir("ctx-work-", cleanups);
    ({ bare, first } = makeServedRepo(base, work));
    const daemon = await startGitDaemon(base);
    cleanups.push(daemon.stop);
    daemonUrl = daemon.url("app.git");
    const http = await startHttpGit(base, "alice", "s3cret-pass");
    cleanups.push(http.stop);
    httpUrl = http.url("app.git");
  });

  it("streams the same bytes from two mirrors over two transports, with ignore rules, exec bits and symlinks", async () => {
    const a = await collect(sourceClient(tempDir("ctx-data-", cleanups)), { source: { repository: daemonUrl, dir: "app" }, commit: first, withSha256: true });
    const b = await collect(sourceClient(tempDir("ctx-data-", cleanups)), {
      source: { repository: httpUrl, dir: "app", credentials: { username: "alice", password: "s3cret-pass" } }, commit: first, withSha256: true,
    });
    assert.equal(a.sha256, createHash("sha256").update(a.tar).digest("hex"));
    assert.equal(Number(a.totalBytes), a.tar.length);
    assert.equal(a.sha256, b.sha256);
    const out = join(tempDir("ctx-out-", cleanups), "x");
    await extractConfined(Readable.from(a.tar), out, { maxBytes: 1 << 20, maxEntries: 100 });
    assert.equal(lstatSync(join(out, "run.sh")).mode & 0o777, 0o755);
    assert.equal(lstatSync(join(out, "Dockerfile")).mode & 0o777, 0o644);
    assert.equal(readlinkSync(join(out, "link")), "run.sh");
    assert.equal(existsSync(join(out, "Containerfile")), true, "the containerfile is always sent");
    assert.equal(existsSync(join(out, ".dockerignore")), true);
    assert.equal(existsSync(join(out, "a.log")), false);
    assert.equal(existsSync(join(out, "sub/b.log")), true);
    assert.equal(existsSync(join(out, "secret-dir/x.txt")), false);
    assert.equal(existsSync(join(out, "secret-dir/keep.txt")), true);
  });

  it("reports the tar's size on its last message, and its sha256 only when asked for it", async () => {
    const client = sourceClient(tempDir("ctx-data-", cleanups));
    const plain = await collect(client, { source: { repository: daemonUrl, dir: "app" }, commit: first });
    assert.equal(Number(plain.totalBytes), plain.tar.length);
    assert.equal(plain.sha256, "", "no digest unless with_sha256 is set");
    const hashed = await collect(client, { source: { repository: daemonUrl, dir: "app" }, commit: first, withSha256: true });
    assert.deepEqual(hashed.tar, plain.tar);
    assert.equal(hashed.sha256, createHash("sha256").update(plain.tar).digest("hex"));
  });

  it("fetches only the new objects for a later commit of a long history", async () => {
    addHistory(work, 300);
    git(work, "push", "-q", bare, "main");
    const data = tempDir("ctx-data-", cleanups);
    const client = sourceClient(data);
    const head = (await client.resolveRevision({ source: { repository: daemonUrl, ref: "main" } })).commit;
    await collect(client, { source: { repository: daemonUrl, dir: "app" }, commit: head });
    writeFileSync(join(work, "app/new.txt"), "new\n");
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", "new file");
    git(work, "push", "-q", bare, "main");
    const before = countObjects(data);
    const next = (await client.resolveRevision({ source: { repository: daemonUrl, ref: "main" } })).commit;
    const d = await client.describe({ source: { repository: daemonUrl, dir: "app" }, commit: next });
    assert.notEqual(d.treeHash, "");
    const fetched = countObjects(data) - before;
    assert.ok(fetched > 0 && fetched <= 5, `fetched ${fetched} objects`);
  });

  it("streams a 50 MB file in pieces of at most TAR_CHUNK (1 MiB less a margin)", async () => {
    const big = Buffer.alloc(50 * 1024 * 1024, 7);
    writeFileSync(join(work, "app/big.bin"), big);
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", "big");
    const commit = git(work, "rev-parse", "HEAD");
    const folder = await collect(sourceClient(tempDir("ctx-data-", cleanups)), { source: { repository: work, dir: "app" }, commit });
    assert.ok(folder.chunks.length >= 50, `${folder.chunks.length} pieces`);
    assert.ok(folder.chunks.every((c) => c.length <= TAR_CHUNK), "every piece fits one message");
    assert.ok(folder.tar.length > big.length);
  });

  it("describes and streams a plain folder with a content hash", async () => {
    const plain = tempDir("ctx-plain-", cleanups);
    writeFixtureTree(plain);
    const client = sourceClient(tempDir("ctx-data-", cleanups));
    const d1 = await client.describe({ source: { repository: plain, dir: "app" } });
    assert.match(d1.treeHash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(d1.containerfile, "Containerfile");
    writeFileSync(join(plain, "other/more.txt"), "x");
    assert.equal((await client.describe({ source: { repository: plain, dir: "app" } })).treeHash, d1.treeHash);
    const t1 = await collect(client, { source: { repository: plain, dir: "app" }, withSha256: true });
    const t2 = await collect(client, { source: { repository: plain, dir: "app" }, withSha256: true });
    assert.match(t1.sha256, /^[0-9a-f]{64}$/);
    assert.equal(t1.sha256, t2.sha256);
    writeFileSync(join(plain, "app/a.log"), "ignored change");
    assert.equal((await client.describe({ source: { repository: plain, dir: "app" } })).treeHash, d1.treeHash);
    writeFileSync(join(plain, "app/run.sh"), "changed");
    assert.notEqual((await client.describe({ source: { repository: plain, dir: "app" } })).treeHash, d1.treeHash);
  });

  it("returns NotFound naming the folder when it does not exist at the commit", async () => {
    const client = sourceClient(tempDir("ctx-data-", cleanups));
    await assert.rejects(client.describe({ source: { repository: daemonUrl, dir: "nope" }, commit: first }), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.NotFound);
      assert.equal(err.rawMessage, `path "nope" was not found in repository "${daemonUrl}" at ${first}: expected a folder`);
      return true;
    });
  });
});

function countObjects(data: string): number {
  const root = join(data, "git");
  let total = 0;
  for (const d of readdirSync(root).filter((n) => /^[0-9a-f]{64}$/.test(n))) {
    const out = git(join(root, d), "count-objects", "-v");
    for (const line of out.split("\n")) {
      const [k, v] = line.split(": ");
      if (k === "count" || k === "in-pack") total += Number(v);
    }
  }
  return total;
}
