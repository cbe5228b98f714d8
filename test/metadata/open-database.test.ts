import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sql } from "kysely";
import { openDatabase } from "../../libs/db/open-database.js";
import { testDialects } from "./test-databases.js";

for (const dialect of testDialects) {
  describe(`opening the metadata database on ${dialect.name}`, () => {
    test("reports not serving before it first waits, and serving once migrated", async (t) => {
      const tdb = await dialect.create();
      t.after(() => tdb.drop());
      const reports: boolean[] = [];
      const opening = openDatabase(tdb.dbConnection, { onHealth: (serving) => reports.push(serving) });
      // Nothing else ran between the call and here: a health check cannot have slipped in before.
      const beforeFirstWait = [...reports];
      const database = await opening;
      const onceOpen = [...reports];
      await database.close();
      assert.deepEqual(beforeFirstWait, [false]);
      assert.deepEqual(onceOpen, [false, true]);
      assert.deepEqual(reports, [false, true, false]);
    });
  });
}

describe("the SQLite metadata database", () => {
  test("runs in WAL mode, so readers in other processes never block the writer", async (t) => {
    const sqlite = testDialects.find((d) => d.name === "sqlite");
    assert.ok(sqlite);
    const tdb = await sqlite.create();
    t.after(() => tdb.drop());
    const database = await openDatabase(tdb.dbConnection);
    try {
      const { rows } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.db);
      assert.deepEqual(rows, [{ journal_mode: "wal" }]);
    } finally {
      await database.close();
    }
  });
});
