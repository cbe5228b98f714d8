import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openDatabase, type Database } from "../../libs/db/open-database.js";
import { getLease } from "../../libs/db/repositories/leases.js";
import { exited, spawnFixture } from "./child-process.js";
import { testDialects, type TestDatabase } from "./test-databases.js";

interface Window {
  holder: string;
  token: number;
  start: bigint;
  end: bigint;
}

for (const dialect of testDialects) {
  describe(`leases across processes on ${dialect.name}`, () => {
    let tdb: TestDatabase;
    let database: Database;
    let dir: string;
    before(async () => {
      tdb = await dialect.create();
      database = await openDatabase(tdb.dbConnection);
      dir = mkdtempSync(join(tmpdir(), "buildplane-lease-"));
    });
    after(async () => {
      await database.close();
      await tdb.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test("two processes acquiring one lease 100 times each never hold it at the same time", async () => {
      const out = join(dir, "windows.jsonl");
      const workers = ["p1", "p2"].map((holder) => exited(spawnFixture("lease-worker.ts", [tdb.dbConnection, "shared", holder, "100", out])));
      await Promise.all(workers);
      const windows: Window[] = readFileSync(out, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { holder: string; token: number; start: string; end: string })
        .map((w) => ({ ...w, start: BigInt(w.start), end: BigInt(w.end) }))
        .sort((a, b) => (a.start < b.start ? -1 : 1));
      assert.equal(windows.length, 200);
      assert.equal(windows.filter((w) => w.holder === "p1").length, 100);
      for (let i = 1; i < windows.length; i++) {
        const prev = windows[i - 1]!;
        const cur = windows[i]!;
        assert.ok(cur.start > prev.end, `window ${i} (${cur.holder}) starts before ${prev.holder} ended`);
        assert.equal(cur.token, prev.token + 1, "each acquisition takes the next fencing token");
      }
      assert.equal((await getLease(database.db, "shared"))?.token, 200);
    });
  });
}
