import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startMetadataHarness, type MetadataHarness } from "./metadata-client.js";
import { testDialects, type TestDatabase } from "./test-databases.js";

const TOKEN = "tok-81c2d4-secret";
const plain = "https://git.example.com/acme/app.git";
const withToken = `https://ci:${TOKEN}@git.example.com/acme/app.git`;

for (const dialect of testDialects) {
  describe(`metadata source records on ${dialect.name}`, () => {
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

    test("stores and returns a build's repository URL without the credentials written into it", async () => {
      const { build } = await h.client.createBuild({ build: { imageKey: "cred-1", source: { repository: withToken, ref: "main", dir: "web" } } });
      assert.equal(build?.source?.repository, plain);
      const got = await h.client.getBuild({ id: build?.id ?? "" });
      assert.equal(got.build?.source?.repository, plain);
      const listed = await h.client.listBuilds({ imageKey: "cred-1" });
      assert.deepEqual(listed.builds.map((b) => b.source?.repository), [plain]);
      const row = await h.database.db.selectFrom("builds").select(["source_repository", "source_ref", "source_dir"]).where("id", "=", build?.id ?? "").executeTakeFirst();
      assert.deepEqual(row, { source_repository: plain, source_ref: "main", source_dir: "web" });
    });

    test("stores an app's repository URL without the credentials written into it", async () => {
      await h.client.putApp({ app: { id: "cred-app", name: "cred-app", source: { repository: withToken } } });
      assert.equal((await h.client.getApp({ id: "cred-app" })).app?.source?.repository, plain);
      const row = await h.database.db.selectFrom("apps").select("repository").where("id", "=", "cred-app").executeTakeFirst();
      assert.deepEqual(row, { repository: plain });
    });
  });
}
