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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

    test("gives a free lease to one holder and refuses it to another while it lives", async () => {
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

    test("lets another holder take over an expired lease with a higher token and fences the old one out", async () => {
      await h.client.acquireLease({ key: "k-expire", holder: "old", ttlMs: 100 });
      let taken = await h.client.acquireLease({ key: "k-expire", holder: "new", ttlMs: 60_000 });
      while (!taken.acquired) {
        await sleep(50);
        taken = await h.client.acquireLease({ key: "k-expire", holder: "new", ttlMs: 60_000 });
      }
      assert.equal(taken.lease?.token, 2n);
      await expectRpcError(
        h.client.renewLease({ key: "k-expire", holder: "old", token: 1n, ttlMs: 1000 }),
        Code.FailedPrecondition,
        "lease k-expire is not held by old with token 1",
      );
    });

    test("refuses an empty key and a zero ttl", async () => {
      await expectRpcError(
        h.client.acquireLease({ key: "", holder: "a", ttlMs: 10 }),
        Code.InvalidArgument,
        `key "" is not valid: expected a non-empty lease key such as build:<image key>`,
      );
      await expectRpcError(h.client.acquireLease({ key: "k", holder: "a", ttlMs: 0 }), Code.InvalidArgument, `ttl_ms "0" is not valid: expected 1 to 3600000`);
    });

    test("lets exactly one of many racing connections win a free lease", async () => {
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

    test("rejects a build update whose fencing token is no longer current", async () => {
      const lease = await h.client.acquireLease({ key: "build:img-fence", holder: "r1", ttlMs: 300 });
      const { build } = await h.client.createBuild({ build: { imageKey: "img-fence" }, fencingToken: lease.lease?.token ?? 0n });
      const id = build?.id ?? "";
      while (!(await h.client.acquireLease({ key: "build:img-fence", holder: "r2", ttlMs: 60_000 })).acquired) await sleep(50);
      await expectRpcError(
        h.client.updateBuild({ id, status: BuildStatus.RUNNING, fencingToken: 1n }),
        Code.FailedPrecondition,
        `build ${id} was not changed: token 1 of lease build:img-fence is not current`,
      );
    });

    test("marks a running build abandoned once its lease expires and ends its log followers", async () => {
      const lease = await h.client.acquireLease({ key: "build:img-reap", holder: "r1", ttlMs: 1000 });
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
      while (!reaped.includes(id)) {
        await sleep(100);
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
