import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { openDatabase } from "../../libs/db/open-database.js";
import { acquireLease } from "../../libs/db/repositories/leases.js";
import { reapOnce } from "../../services/metadata/lease-reaper.js";
import { startMetadataHarness, type MetadataHarness } from "./metadata-client.js";
import { expectRpcError } from "./rpc-assert.js";
import { testDialects, type TestDatabase } from "./test-databases.js";

const limit = { timeout: 60_000 };
/** A lease short enough to wait out, long enough that a loaded machine never sees it lapse early. */
const shortTtlMs = 2000;

/** Acquires `key` for `holder` as soon as its lease lapses (polled every 100 ms, for at most 20 s). */
async function acquireOnceFree(h: MetadataHarness, key: string, holder: string): Promise<bigint> {
  const until = Date.now() + 20_000;
  for (;;) {
    const res = await h.client.acquireLease({ key, holder, ttlMs: 60_000 });
    if (res.acquired) return res.lease?.token ?? 0n;
    assert.ok(Date.now() < until, `lease ${key} still held by ${res.lease?.holder} after 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const dialect of testDialects) {
  describe(`metadata leases on ${dialect.name}`, () => {
    let tdb: TestDatabase;
    let h: MetadataHarness;
    before(async () => {
      tdb = await dialect.create();
      h = await startMetadataHarness(tdb.dbConnection);
    });
    after(async () => {
      await h.close();
      await tdb.drop();
    });

    test("gives a free lease to one holder and refuses it to another while it lives", limit, async () => {
      const a = await h.client.acquireLease({ key: "k-basic", holder: "a", ttlMs: 60_000 });
      assert.equal(a.acquired, true);
      assert.equal(a.lease?.token, 1n);
      const b = await h.client.acquireLease({ key: "k-basic", holder: "b", ttlMs: 60_000 });
      assert.equal(b.acquired, false);
      assert.equal(b.lease?.holder, "a");
      const renewed = await h.client.renewLease({ key: "k-basic", holder: "a", token: 1n, ttlMs: 120_000 });
      assert.equal(renewed.lease?.token, 1n);
      assert.equal((await h.client.releaseLease({ key: "k-basic", holder: "a", token: 1n })).released, true);
      assert.equal((await h.client.releaseLease({ key: "k-basic", holder: "a", token: 1n })).released, false);
      const c = await h.client.acquireLease({ key: "k-basic", holder: "b", ttlMs: 60_000 });
      assert.equal(c.acquired, true);
      assert.equal(c.lease?.token, 2n);
    });

    test("lets another holder take over an expired lease with a higher token and fences the old one out", limit, async () => {
      await h.client.acquireLease({ key: "k-expire", holder: "old", ttlMs: shortTtlMs });
      assert.equal((await h.client.acquireLease({ key: "k-expire", holder: "new", ttlMs: 60_000 })).acquired, false);
      assert.equal(await acquireOnceFree(h, "k-expire", "new"), 2n);
      await expectRpcError(
        h.client.renewLease({ key: "k-expire", holder: "old", token: 1n, ttlMs: 1000 }),
        Code.FailedPrecondition,
        "lease k-expire is not held by old with token 1",
      );
    });

    test("refuses an empty key and a zero ttl", limit, async () => {
      await expectRpcError(
        h.client.acquireLease({ key: "", holder: "a", ttlMs: 10 }),
        Code.InvalidArgument,
        `key "" is not valid: expected a non-empty lease key such as build:<image key>`,
      );
      await expectRpcError(h.client.acquireLease({ key: "k", holder: "a", ttlMs: 0 }), Code.InvalidArgument, `ttl_ms "0" is not valid: expected 1 to 3600000`);
    });

    test("lets exactly one of many racing connections win a free lease", limit, async () => {
      const others = await Promise.all(Array.from({ length: 4 }, () => openDatabase(tdb.dbConnection, { poolSize: 4 })));
      try {
        for (let round = 0; round < 5; round++) {
          const key = `k-race-${round}`;
          const results = await Promise.all(
            others.flatMap((d, i) => [0, 1, 2].map((j) => acquireLease(d.db, d.capabilities, key, `h${i}-${j}`, 60_000))),
          );
          assert.equal(results.filter((r) => r.acquired).length, 1);
        }
      } finally {
        await Promise.all(others.map((d) => d.close()));
      }
    });

    test("rejects a build update whose fencing token is no longer current", limit, async () => {
      const lease = await h.client.acquireLease({ key: "build:img-fence", holder: "r1", ttlMs: shortTtlMs });
      const { build } = await h.client.createBuild({ build: { imageKey: "img-fence" }, fencingToken: lease.lease?.token ?? 0n });
      const id = build?.id ?? "";
      await acquireOnceFree(h, "build:img-fence", "r2");
      await expectRpcError(
        h.client.updateBuild({ id, status: BuildStatus.RUNNING, fencingToken: 1n }),
        Code.FailedPrecondition,
        `build ${id} was not changed: token 1 of lease build:img-fence is not current`,
      );
    });

    test("stores no log line of a holder whose lease expired, even before anyone took it over", limit, async () => {
      const lease = await h.client.acquireLease({ key: "build:img-logs", holder: "r1", ttlMs: shortTtlMs });
      const token = lease.lease?.token ?? 0n;
      const { build } = await h.client.createBuild({ build: { imageKey: "img-logs" }, fencingToken: token });
      const id = build?.id ?? "";
      assert.equal((await h.client.appendLogs({ buildId: id, lines: [{ text: "while held" }], fencingToken: token })).lastSeq, 1n);
      // Renewed with a 1 ms time to live, it lapses at once; expired, not yet taken, its token is no longer current.
      const until = Date.now() + 20_000;
      while ((await h.client.renewLease({ key: "build:img-logs", holder: "r1", token, ttlMs: 1 }).then(() => true, () => false)) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await expectRpcError(
        h.client.appendLogs({ buildId: id, lines: [{ text: "late one" }, { text: "late two" }], fencingToken: token }),
        Code.FailedPrecondition,
        `log lines of build ${id} were not stored: token ${token} of lease build:img-logs is not current`,
      );
      const next = await acquireOnceFree(h, "build:img-logs", "r2");
      await expectRpcError(
        h.client.appendLogs({ buildId: id, lines: [{ text: "later" }], fencingToken: token }),
        Code.FailedPrecondition,
        `log lines of build ${id} were not stored: token ${token} of lease build:img-logs is not current`,
      );
      const stored: string[] = [];
      for await (const msg of h.client.streamLogs({ buildId: id })) stored.push(...msg.lines.map((l) => l.text));
      assert.deepEqual(stored, ["while held"]);
      assert.equal(next, token + 1n);
    });

    test("refuses a fencing token on the log of a build bound to no lease", limit, async () => {
      const { build } = await h.client.createBuild({ build: {} });
      await expectRpcError(
        h.client.appendLogs({ buildId: build?.id ?? "", lines: [{ text: "x" }], fencingToken: 3n }),
        Code.InvalidArgument,
        `fencing_token "3" is not valid: expected 0: build ${build?.id} has no image key, so no lease`,
      );
    });

    test("takes a live lease from a named dead holder at once and marks its running build abandoned", limit, async () => {
      const lease = await h.client.acquireLease({ key: "build:img-dead", holder: "host/1234/aaaa", ttlMs: 600_000 });
      const token = lease.lease?.token ?? 0n;
      const { build } = await h.client.createBuild({ build: { imageKey: "img-dead" }, fencingToken: token });
      const id = build?.id ?? "";
      await h.client.updateBuild({ id, status: BuildStatus.RUNNING, fencingToken: token });
      assert.equal((await h.client.acquireLease({ key: "build:img-dead", holder: "host/99/bbbb", ttlMs: 60_000, replaceHolder: "host/7/cccc" })).acquired, false, "another holder's name takes nothing");
      const taken = await h.client.acquireLease({ key: "build:img-dead", holder: "host/99/bbbb", ttlMs: 60_000, replaceHolder: "host/1234/aaaa" });
      assert.equal(taken.acquired, true);
      assert.equal(taken.lease?.token, token + 1n);
      const got = (await h.client.getBuild({ id })).build;
      assert.equal(got?.status, BuildStatus.ABANDONED);
      assert.equal(got?.errorCode, "aborted");
      assert.equal(got?.errorMessage, `build lease build:img-dead was taken over (token ${token + 1n}) while the build was running`);
      await expectRpcError(
        h.client.acquireLease({ key: "build:img-dead", holder: "host/99/bbbb", ttlMs: 60_000, replaceHolder: "host/99/bbbb" }),
        Code.InvalidArgument,
        `replace_holder "host/99/bbbb" is not valid: expected another holder than the caller's own`,
      );
    });

    test("marks a running build abandoned once its lease expires and ends its log followers", limit, async () => {
      const lease = await h.client.acquireLease({ key: "build:img-reap", holder: "r1", ttlMs: shortTtlMs });
      const token = lease.lease?.token ?? 0n;
      const { build } = await h.client.createBuild({ build: { imageKey: "img-reap" }, fencingToken: token });
      const id = build?.id ?? "";
      await h.client.updateBuild({ id, status: BuildStatus.RUNNING, fencingToken: token });
      const { build: unbound } = await h.client.createBuild({ build: { imageKey: "img-reap", status: BuildStatus.RUNNING } });
      assert.ok(!(await reapOnce(h.deps)).includes(id));
      const follower = (async () => {
        let final = BuildStatus.UNSPECIFIED;
        for await (const msg of h.client.streamLogs({ buildId: id, follow: true })) if (msg.finalStatus) final = msg.finalStatus;
        return final;
      })();
      let reaped: string[] = [];
      const until = Date.now() + 20_000;
      while (!reaped.includes(id)) {
        assert.ok(Date.now() < until, "the build was not reaped within 20 s of a 2 s lease");
        await new Promise((r) => setTimeout(r, 100));
        reaped = await reapOnce(h.deps);
      }
      assert.equal(await follower, BuildStatus.ABANDONED);
      const got = (await h.client.getBuild({ id })).build;
      assert.equal(got?.status, BuildStatus.ABANDONED);
      assert.equal(got?.errorMessage, "build lease build:img-reap expired while the build was running");
      assert.equal((await h.client.getBuild({ id: unbound?.id ?? "" })).build?.status, BuildStatus.RUNNING);
    });
  });
}
