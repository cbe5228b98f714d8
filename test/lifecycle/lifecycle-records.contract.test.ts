import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { startMetadataHarness, type MetadataHarness } from "../metadata/metadata-client.js";
import { expectRpcError } from "../metadata/rpc-assert.js";
import { testDialects, type TestDatabase } from "../metadata/test-databases.js";

/**
 * The metadata half of the image lifecycle on both dialects: apps with a
 * poll interval, builds marked collected (records stay) and pinned, and
 * the build leases still held.
 */
for (const dialect of testDialects) {
  describe(`lifecycle records on ${dialect.name}`, { timeout: 120_000 }, () => {
    let tdb: TestDatabase;
    let h: MetadataHarness;
    before(async () => {
      tdb = await dialect.create();
      h = await startMetadataHarness(tdb.dbConnection);
    });
    after(async () => {
      await h?.close();
      await tdb?.drop();
    });

    test("stores an app's ref pattern and poll interval, and refuses intervals out of bounds or a polled pattern", async () => {
      const { app } = await h.client.putApp({
        app: { id: "web", name: "web", source: { repository: "https://git.example/web.git", ref: "release/*", dir: "svc" }, containerfile: "Dockerfile.prod", args: [{ name: "A", value: "1" }] },
      });
      assert.equal(app?.source?.ref, "release/*");
      assert.equal(app?.pollIntervalSecs, 0);
      const polled = await h.client.putApp({ app: { id: "docs", name: "docs", source: { repository: "https://git.example/docs.git", ref: "main" }, pollIntervalSecs: 60 } });
      assert.equal(polled.app?.pollIntervalSecs, 60);
      assert.equal((await h.client.getApp({ id: "docs" })).app?.pollIntervalSecs, 60);
      await expectRpcError(
        h.client.putApp({ app: { id: "fast", name: "fast", source: { repository: "https://git.example/x.git", ref: "main" }, pollIntervalSecs: 3 } }),
        Code.InvalidArgument,
        `app.poll_interval_secs "3" is not valid: expected 0 (never) or 10 to 86400 seconds`,
      );
      await expectRpcError(
        h.client.putApp({ app: { id: "pat", name: "pat", source: { repository: "https://git.example/x.git", ref: "release/*" }, pollIntervalSecs: 60 } }),
        Code.InvalidArgument,
        `app.source.ref "release/*" is not valid: expected a branch, tag or commit when poll_interval_secs is set (a pattern is for webhooks only)`,
      );
    });

    test("marks builds collected once, keeps their records, and lists only uncollected ones on request", async () => {
      const ids: string[] = [];
      for (const key of ["c1", "c2", "c3"]) {
        const { build } = await h.client.createBuild({ build: { appId: "gc-app", imageKey: key, image: `cli-gc-app:${key}`, status: BuildStatus.RUNNING } });
        await h.client.updateBuild({ id: build?.id ?? "", status: BuildStatus.SUCCEEDED, digest: `sha256:${key}` });
        ids.push(build?.id ?? "");
      }
      const [first, second] = ids;
      assert.equal((await h.client.markCollected({ ids: [first ?? "", second ?? ""] })).marked, 2);
      const marked = (await h.client.getBuild({ id: first ?? "" })).build;
      assert.ok(marked?.collectTime, "the record stays, with its collection time");
      assert.equal(marked?.status, BuildStatus.SUCCEEDED);
      assert.equal((await h.client.markCollected({ ids: [first ?? ""] })).marked, 0, "a collected build is not marked again");
      const all = await h.client.listBuilds({ appId: "gc-app" });
      assert.equal(all.builds.length, 3);
      const live = await h.client.listBuilds({ appId: "gc-app", uncollectedOnly: true });
      assert.deepEqual(live.builds.map((b) => b.id), [ids[2]]);
      await expectRpcError(h.client.markCollected({ ids: [""] }), Code.InvalidArgument, `ids "" is not valid: expected build ids such as b_01h…`);
    });

    test("pins and unpins a build, NotFound for an unknown one", async () => {
      const { build } = await h.client.createBuild({ build: { appId: "pin-app", imageKey: "p1" } });
      const id = build?.id ?? "";
      assert.equal(build?.pinned, false);
      assert.equal((await h.client.setBuildPinned({ id, pinned: true })).build?.pinned, true);
      assert.equal((await h.client.getBuild({ id })).build?.pinned, true);
      assert.equal((await h.client.setBuildPinned({ id, pinned: false })).build?.pinned, false);
      await expectRpcError(h.client.setBuildPinned({ id: "b_nope", pinned: true }), Code.NotFound, "build b_nope not found");
    });

    test("lists held leases under a prefix, not expired or released ones, and treats _ and % literally", async () => {
      const held = await h.client.acquireLease({ key: "build:held_1", holder: "h1", ttlMs: 60_000 });
      assert.equal(held.acquired, true);
      const gone = await h.client.acquireLease({ key: "build:released", holder: "h2", ttlMs: 60_000 });
      await h.client.releaseLease({ key: "build:released", holder: "h2", token: gone.lease?.token ?? 0n });
      await h.client.acquireLease({ key: "other:held", holder: "h3", ttlMs: 60_000 });
      await h.client.acquireLease({ key: "buildXheld", holder: "h4", ttlMs: 60_000 });
      const { leases } = await h.client.listHeldLeases({ prefix: "build:" });
      assert.deepEqual(leases.map((l) => l.key), ["build:held_1"]);
      assert.deepEqual((await h.client.listHeldLeases({ prefix: "build:held_" })).leases.map((l) => l.key), ["build:held_1"]);
      assert.deepEqual((await h.client.listHeldLeases({ prefix: "build_" })).leases.map((l) => l.key), []);
    });
  });
}
