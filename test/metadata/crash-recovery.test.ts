import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql, type Kysely } from "kysely";
import { openDatabase } from "../../libs/db/open-database.js";
import { readLogLines } from "../../libs/db/repositories/build-logs.js";
import { exited, spawnFixture } from "./child-process.js";
import { startMetadataHarness, type MetadataHarness } from "./metadata-client.js";
import { testDialects, type TestDatabase } from "./test-databases.js";

/** The migrations recorded as applied, with when: a re-run or a new one changes this. */
async function appliedMigrations<T>(db: Kysely<T>): Promise<Array<{ name: string; timestamp: string }>> {
  const { rows } = await sql<{ name: string; timestamp: string }>`select name, timestamp from kysely_migration order by name`.execute(db);
  return rows;
}

for (const dialect of testDialects) {
  describe(`crash recovery on ${dialect.name}`, () => {
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

    test("keeps every committed log line after kill -9 of a writer, and migrates nothing on restart", async () => {
      const migrated = await appliedMigrations(h.database.db);
      assert.ok(migrated.length > 0, "the first open applied the migrations");
      const { build } = await h.client.createBuild({ build: { imageKey: "crash" } });
      const id = build?.id ?? "";
      const child = spawnFixture("log-writer.ts", [tdb.dbConnection, id]);
      const done = exited(child);
      let committed = 0;
      await new Promise<void>((resolve) => {
        let buf = "";
        child.stdout?.on("data", (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split("\n");
          buf = lines.pop() ?? "";
          for (const l of lines) committed = Math.max(committed, Number(l.replace("committed ", "")));
          if (committed >= 300) {
            child.kill("SIGKILL");
            resolve();
          }
        });
      });
      assert.equal(await done, "SIGKILL");

      const reopened = await openDatabase(tdb.dbConnection);
      try {
        assert.deepEqual(await appliedMigrations(reopened.db), migrated);
        const stored = await readLogLines(reopened.db, id, 0, 1_000_000);
        assert.ok(stored.length >= committed, `${stored.length} lines stored, ${committed} reported committed`);
        assert.ok(stored.length % 10 === 0, "no half batch is visible");
        assert.deepEqual(stored.map((l) => l.seq), Array.from({ length: stored.length }, (_, i) => i + 1));
        const next = await h.client.appendLogs({ buildId: id, lines: [{ text: "after restart" }] });
        assert.equal(next.lastSeq, BigInt(stored.length + 1));
      } finally {
        await reopened.close();
      }
    });
  });
}
