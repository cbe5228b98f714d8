import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { openDatabase } from "../../libs/db/open-database.js";
import { exited, spawnFixture } from "./child-process.js";
import { testDialects, type TestDatabase } from "./test-databases.js";

const processes = 4;
const rounds = 6;

for (const dialect of testDialects) {
  describe(`migrations from several processes on ${dialect.name}`, () => {
    const databases: TestDatabase[] = [];
    before(async () => {
      for (let i = 0; i < rounds; i++) databases.push(await dialect.create());
    });
    after(async () => {
      for (const d of databases) await d.drop();
    });

    test(`${processes} processes opening one new database at the same moment all start, and each migration is applied once`, async () => {
      const start = Date.now() + 3000;
      const connections = databases.map((d) => d.dbConnection);
      const outputs = Array.from({ length: processes }, () => {
        const child = spawnFixture("migrator.ts", [String(start), "400", ...connections]);
        let stdout = "";
        child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
        return exited(child).then(() => stdout);
      });
      const lines = (await Promise.all(outputs)).flatMap((out) => out.trim().split("\n"));
      assert.equal(lines.length, processes * rounds, "every process opened every database");
      for (const line of lines) {
        assert.deepEqual((JSON.parse(line) as { appliedAgain: string[] }).appliedAgain, [], "nothing was left to migrate once open");
      }
      for (const d of databases) {
        const database = await openDatabase(d.dbConnection);
        try {
          const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(database.db);
          assert.deepEqual(rows.map((r) => r.name), ["0001-initial", "0002-install-secrets", "0003-build-spec", "0004-lifecycle", "0005-collection-feed"]);
          assert.equal((await database.db.selectFrom("builds").select("id").execute()).length, 0);
        } finally {
          await database.close();
        }
      }
    });
  });
}
