import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { migrateToLatest } from "../../libs/db/migrations/migrate.js";
import { openDatabase } from "../../libs/db/open-database.js";
import { startMetadataHarness, type MetadataHarness } from "./metadata-client.js";
import { expectRpcError } from "./rpc-assert.js";
import { testDialects, type TestDatabase } from "./test-databases.js";

for (const dialect of testDialects) {
  describe(`metadata builds and apps on ${dialect.name}`, () => {
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

    test("creates a queued build with a sortable id and reads it back", async () => {
      const { build } = await h.client.createBuild({
        build: { imageKey: "k1", image: "cli-app:1", requester: "alice", source: { repository: "https://x/r.git", ref: "main", credentials: { password: "hunter2" } } },
      });
      assert.match(build?.id ?? "", /^b_[0-9a-z]{26}$/);
      assert.equal(build?.status, BuildStatus.QUEUED);
      const got = await h.client.getBuild({ id: build?.id ?? "" });
      assert.equal(got.build?.image, "cli-app:1");
      assert.equal(got.build?.source?.repository, "https://x/r.git");
      assert.equal(got.build?.source?.credentials, undefined);
      assert.ok(got.build?.createTime);
    });

    test("returns NotFound naming an unknown build id", async () => {
      await expectRpcError(h.client.getBuild({ id: "b_nope" }), Code.NotFound, "build b_nope not found");
      await expectRpcError(h.client.updateBuild({ id: "b_nope", status: BuildStatus.RUNNING }), Code.NotFound, "build b_nope not found");
    });

    test("moves a build through legal transitions and stamps start and finish times", async () => {
      const { build } = await h.client.createBuild({ build: { imageKey: "k2" } });
      const id = build?.id ?? "";
      const running = await h.client.updateBuild({ id, status: BuildStatus.RUNNING, builderNode: "node-1" });
      assert.ok(running.build?.startTime);
      await h.client.updateBuild({ id, status: BuildStatus.PUSHING, contextBytes: 1234n });
      const done = await h.client.updateBuild({ id, status: BuildStatus.SUCCEEDED, digest: "sha256:abc" });
      assert.equal(done.build?.status, BuildStatus.SUCCEEDED);
      assert.equal(done.build?.digest, "sha256:abc");
      assert.equal(done.build?.contextBytes, 1234n);
      assert.equal(done.build?.builderNode, "node-1");
      assert.ok(done.build?.finishTime);
    });

    test("refuses an illegal transition with FailedPrecondition naming both states", async () => {
      const { build } = await h.client.createBuild({ build: { imageKey: "k3", status: BuildStatus.RUNNING } });
      const id = build?.id ?? "";
      await h.client.updateBuild({ id, status: BuildStatus.SUCCEEDED });
      await expectRpcError(h.client.updateBuild({ id, status: BuildStatus.RUNNING }), Code.FailedPrecondition, `build ${id} cannot go from succeeded to running`);
      await expectRpcError(h.client.updateBuild({ id, digest: "sha256:x" }), Code.FailedPrecondition, `build ${id} is succeeded, a final status: its record does not change`);
      const { build: q } = await h.client.createBuild({ build: { imageKey: "k3" } });
      await expectRpcError(h.client.updateBuild({ id: q?.id ?? "", status: BuildStatus.PUSHING }), Code.FailedPrecondition, `build ${q?.id} cannot go from queued to pushing`);
    });

    test("refuses a new build that starts in a final status", async () => {
      await expectRpcError(
        h.client.createBuild({ build: { status: BuildStatus.SUCCEEDED } }),
        Code.InvalidArgument,
        `build.status "succeeded" is not valid: expected queued or running for a new build`,
      );
    });

    test("lists builds newest first with filters and cursor paging", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const { build } = await h.client.createBuild({ build: { appId: "list-app", imageKey: `lk${i % 2}` } });
        ids.push(build?.id ?? "");
      }
      const seen: string[] = [];
      let pageToken = "";
      do {
        const page = await h.client.listBuilds({ appId: "list-app", pageSize: 3, pageToken });
        assert.ok(page.builds.length <= 3);
        seen.push(...page.builds.map((b) => b.id));
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      assert.deepEqual(seen, [...ids].reverse());
      const byKey = await h.client.listBuilds({ appId: "list-app", imageKey: "lk1" });
      assert.deepEqual(byKey.builds.map((b) => b.id), [ids[5], ids[3], ids[1]]);
      await h.client.updateBuild({ id: ids[0] ?? "", status: BuildStatus.CANCELED });
      const canceled = await h.client.listBuilds({ appId: "list-app", status: BuildStatus.CANCELED });
      assert.deepEqual(canceled.builds.map((b) => b.id), [ids[0]]);
    });

    test("refuses a page token it did not issue", async () => {
      await expectRpcError(
        h.client.listBuilds({ pageToken: "garbage" }),
        Code.InvalidArgument,
        `page_token "garbage" is not valid: expected a token returned by a previous builds call`,
      );
    });

    test("stores apps without secret build arg values and deletes them", async () => {
      const { app } = await h.client.putApp({
        app: { name: "web", source: { repository: "https://x/web.git", dir: "svc" }, args: [{ name: "A", value: "1" }, { name: "TOKEN", value: "s3cret", secret: true }] },
      });
      assert.equal(app?.id, "web");
      const got = await h.client.getApp({ id: "web" });
      assert.deepEqual(got.app?.args.map((a) => [a.name, a.value, a.secret]), [["A", "1", false], ["TOKEN", "", true]]);
      await h.client.putApp({ app: { id: "web", name: "web", target: "prod" } });
      assert.equal((await h.client.getApp({ id: "web" })).app?.target, "prod");
      assert.ok((await h.client.listApps({})).apps.some((a) => a.id === "web"));
      await h.client.deleteApp({ id: "web" });
      await expectRpcError(h.client.getApp({ id: "web" }), Code.NotFound, "app web not found");
      await expectRpcError(h.client.putApp({ app: { name: "" } }), Code.InvalidArgument, `app.name "" is not valid: expected a non-empty name`);
    });

    test("applies no migration when the schema is already current", async () => {
      const again = await openDatabase(tdb.dbConnection);
      try {
        assert.deepEqual(await migrateToLatest(again.db), []);
      } finally {
        await again.close();
      }
    });
  });
}
