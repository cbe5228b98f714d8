import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Kysely, Migrator } from "kysely";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { parseDbConnection } from "../../libs/db/connection-string.js";
import type { DbBundle } from "../../libs/db/db-bundle.js";
import { createMigrationProvider } from "../../libs/db/migrations/provider.js";
import { createPostgresBundle } from "../../libs/db/postgres/bundle.js";
import { createSqliteBundle } from "../../libs/db/sqlite/bundle.js";
import { startMetadataHarness, type MetadataHarness } from "./metadata-client.js";
import { testDialects, type TestDatabase } from "./test-databases.js";

const SECRET = "npm-tok-5b1e90-secret";

/** A bundle on `dbConnection` without migrating it, so a test can stop at an older migration. */
function rawBundle(dbConnection: string): DbBundle {
  const t = parseDbConnection(dbConnection);
  const opts = { poolSize: 2, busyTimeoutMs: 5000, statementTimeoutMs: 30_000 };
  return t.kind === "sqlite" ? createSqliteBundle(t.path, opts) : createPostgresBundle(t, opts);
}

for (const dialect of testDialects) {
  describe(`metadata build spec on ${dialect.name}`, { timeout: 120_000 }, () => {
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

    test("keeps a build's Containerfile, target, platform and args, a secret arg by name only, and stamps when it was pushed", async () => {
      const { build } = await h.client.createBuild({
        build: {
          imageKey: "spec-1",
          containerfile: "deploy/Containerfile",
          target: "runtime",
          platform: "linux/amd64",
          args: [
            { name: "NODE_ENV", value: "production" },
            { name: "NPM_TOKEN", value: SECRET, secret: true },
          ],
        },
      });
      const id = build?.id ?? "";
      const expectedArgs = [
        { name: "NODE_ENV", value: "production", secret: false },
        { name: "NPM_TOKEN", value: "", secret: true },
      ];
      const got = (await h.client.getBuild({ id })).build;
      assert.equal(got?.containerfile, "deploy/Containerfile");
      assert.equal(got?.target, "runtime");
      assert.equal(got?.platform, "linux/amd64");
      assert.deepEqual(got?.args.map((a) => ({ name: a.name, value: a.value, secret: a.secret })), expectedArgs);
      assert.equal(got?.pushTime, undefined, "not pushed yet");
      const row = await h.database.db.selectFrom("builds").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(row).includes(SECRET), "the secret value is not stored");
      assert.deepEqual(JSON.parse(row.args_json), expectedArgs);

      await h.client.updateBuild({ id, status: BuildStatus.RUNNING });
      const pushing = (await h.client.updateBuild({ id, status: BuildStatus.PUSHING })).build;
      assert.ok(pushing?.pushTime, "push time set on entering pushing");
      const done = (await h.client.updateBuild({ id, status: BuildStatus.SUCCEEDED })).build;
      assert.equal(timestampMs(done!.pushTime!), timestampMs(pushing.pushTime));
      assert.ok(timestampMs(done!.startTime!) <= timestampMs(pushing.pushTime) && timestampMs(pushing.pushTime) <= timestampMs(done!.finishTime!));
      const listed = await h.client.listBuilds({ imageKey: "spec-1" });
      assert.equal(listed.builds[0]?.containerfile, "deploy/Containerfile");
    });

    test("a failed build that never pushed has no push time", async () => {
      const { build } = await h.client.createBuild({ build: { imageKey: "spec-2", status: BuildStatus.RUNNING } });
      const failed = (await h.client.updateBuild({ id: build?.id ?? "", status: BuildStatus.FAILED, errorCode: "internal", errorMessage: "step 2 failed" })).build;
      assert.equal(failed?.pushTime, undefined);
      assert.deepEqual(failed?.args, []);
      assert.equal(failed?.containerfile, "");
    });
  });

  describe(`metadata migration 0003 on ${dialect.name}`, { timeout: 120_000 }, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await dialect.create();
    });
    after(async () => {
      await tdb?.drop();
    });

    test("brings a database at 0002 forward, and its builds read with an empty spec", async () => {
      const bundle = rawBundle(tdb.dbConnection);
      const old = new Kysely<any>({ dialect: bundle.dialect });
      try {
        const res = await new Migrator({ db: old, provider: createMigrationProvider() }).migrateTo("0002-install-secrets");
        assert.equal(res.error, undefined);
        await old.insertInto("builds").values({ id: "b_00000000000000000000000001", status: "succeeded", created_at: 1_700_000_000_000 }).execute();
      } finally {
        await old.destroy();
      }
      const h = await startMetadataHarness(tdb.dbConnection);
      try {
        const got = (await h.client.getBuild({ id: "b_00000000000000000000000001" })).build;
        assert.equal(got?.status, BuildStatus.SUCCEEDED);
        assert.equal(got?.containerfile, "");
        assert.deepEqual(got?.args, []);
        assert.equal(got?.pushTime, undefined);
      } finally {
        await h.close();
      }
    });
  });
}
