import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { createErrorInterceptor } from "../../libs/rpc/errors.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { createPinnedDescribeCache } from "../../services/source/pinned-describe-cache.js";
import { createSourceService } from "../../services/source/service.js";
import { createSourceCheckout } from "../../services/source/source-checkout.js";
import { git } from "./git-fixtures.js";
import { tempDir } from "./source-harness.js";

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

/** The real source service in memory, and how many Describe calls reached it. */
function countedSource(): { client: Client<typeof SourceService>; calls: () => number } {
  let calls = 0;
  const checkout = createSourceCheckout({ gitRoot: join(tempDir("pinned-data-", cleanups), "git"), cacheEntries: 0, remoteCheckIntervalSecs: 0, operationTimeoutSecs: 600, gitAuth: {}, defaultGitAuth: "" });
  const transport = createRouterTransport((router) => router.service(SourceService, createSourceService({ checkout })), {
    router: {
      interceptors: [
        (next) => async (req) => {
          if (req.method.name === "Describe") calls++;
          return next(req);
        },
        createErrorInterceptor(silentLogger),
      ],
    },
  });
  return { client: createClient(SourceService, transport), calls: () => calls };
}

const work = tempDir("pinned-work-", cleanups);
git(work, "init", "-q", "-b", "main");
mkdirSync(join(work, "app"));
writeFileSync(join(work, "app/Containerfile"), "FROM scratch\n");
git(work, "add", "-A");
git(work, "commit", "-q", "-m", "first");
const commit = git(work, "rev-parse", "HEAD");
const treeHash = git(work, "rev-parse", `${commit}:app`);
const url = `file://${work}`;

describe("the pinned describe cache", () => {
  it("describes a folder at a full commit sha once and answers the same again without a call", async () => {
    const { client, calls } = countedSource();
    const cached = createPinnedDescribeCache(client);
    const first = await cached.describe({ source: { repository: url, ref: commit, dir: "app" } });
    const again = await cached.describe({ source: { repository: url, ref: commit, dir: "app" } });
    assert.equal(first.treeHash, treeHash);
    assert.equal(first.commit, commit);
    assert.deepEqual(again, first);
    assert.equal(calls(), 1);
  });

  it("asks again for a branch, another folder, another containerfile and other credentials", async () => {
    const { client, calls } = countedSource();
    const cached = createPinnedDescribeCache(client);
    await cached.describe({ source: { repository: url, ref: "main", dir: "app" } });
    await cached.describe({ source: { repository: url, ref: "main", dir: "app" } });
    assert.equal(calls(), 2);
    await cached.describe({ source: { repository: url, ref: commit, dir: "app" } });
    await cached.describe({ source: { repository: url, ref: commit, dir: "app" }, containerfile: "Containerfile" });
    await cached.describe({ source: { repository: url, ref: commit, dir: "app", credentials: { username: "u", password: "p1" } } });
    await cached.describe({ source: { repository: url, ref: commit, dir: "app", credentials: { username: "u", password: "p2" } } });
    assert.equal(calls(), 6);
    await cached.describe({ source: { repository: url, ref: commit, dir: "app", credentials: { username: "u", password: "p2" } } });
    assert.equal(calls(), 6);
  });

  it("never keeps a plain folder's answer, which has no commit, even for a ref shaped like a sha", async () => {
    const { client, calls } = countedSource();
    const cached = createPinnedDescribeCache(client);
    const folder = tempDir("pinned-folder-", cleanups);
    writeFileSync(join(folder, "Containerfile"), "FROM scratch\n");
    const before = await cached.describe({ source: { repository: folder, ref: commit } });
    writeFileSync(join(folder, "Containerfile"), "FROM scratch\nCOPY . /\n");
    const after = await cached.describe({ source: { repository: folder, ref: commit } });
    assert.equal(calls(), 2);
    assert.notEqual(after.treeHash, before.treeHash);
  });

  it("keeps no error: a missing folder at a pinned commit is NotFound on every call", async () => {
    const { client, calls } = countedSource();
    const cached = createPinnedDescribeCache(client);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(cached.describe({ source: { repository: url, ref: commit, dir: "missing" } }), (err: unknown) => {
        assert.ok(err instanceof ConnectError);
        assert.equal(err.code, Code.NotFound);
        assert.equal(err.rawMessage, `path "missing" was not found in repository "${url}" at ${commit}: expected a folder`);
        return true;
      });
    }
    assert.equal(calls(), 2);
  });

  it("asks again once an answer is older than its time to live", async () => {
    const { client, calls } = countedSource();
    const cached = createPinnedDescribeCache(client, { ttlMs: 0 });
    await cached.describe({ source: { repository: url, ref: commit, dir: "app" } });
    await cached.describe({ source: { repository: url, ref: commit, dir: "app" } });
    assert.equal(calls(), 2);
  });
});
