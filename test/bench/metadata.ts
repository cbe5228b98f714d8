// Metadata benchmark: log lines appended per second (batches of 100) and
// lease acquire latency (p50/p99), on SQLite and on the local Postgres.
import { performance } from "node:perf_hooks";
import { openDatabase } from "../../libs/db/open-database.js";
import { appendLogLines } from "../../libs/db/repositories/build-logs.js";
import { acquireLease, releaseLease } from "../../libs/db/repositories/leases.js";
import { insertBuild } from "../../libs/db/repositories/builds.js";
import { newBuildId } from "../../services/metadata/build-id.js";
import { testDialects } from "../metadata/test-databases.js";

const batches = 200;
const batchSize = 100;
const leaseRounds = 1000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const rows: string[][] = [];
for (const dialect of testDialects) {
  const tdb = await dialect.create();
  const database = await openDatabase(tdb.dbConnection, { poolSize: 4 });
  try {
    const id = newBuildId();
    await insertBuild(database.db, {
      id, appId: "", imageKey: "bench", image: "", digest: "", commit: "", treeHash: "", mode: "", builderNode: "",
      status: "running", errorCode: "", errorMessage: "", createdAt: Date.now(), startedAt: Date.now(), finishedAt: undefined,
      contextBytes: 0, requester: "bench", source: { repository: "", ref: "", dir: "" }, leaseKey: "build:bench", leaseToken: 0,
      containerfile: "Containerfile", args: [], target: "", platform: "", pushedAt: undefined,
    });
    const cap = { maxLines: batches * batchSize, markerText: (n: number) => `${n} dropped` };
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) {
      const lines = Array.from({ length: batchSize }, (_, i) => ({ stream: "stdout" as const, text: `step ${b}/${i}: compiling module number ${i} of the app`, timeMs: Date.now() }));
      await appendLogLines(database, id, lines, cap);
    }
    const linesPerSec = (batches * batchSize) / ((performance.now() - t0) / 1000);

    const latencies: number[] = [];
    for (let i = 0; i < leaseRounds; i++) {
      const t = performance.now();
      const res = await acquireLease(database.db, database.capabilities, "bench-lease", "bench", 60_000);
      latencies.push(performance.now() - t);
      if (!res.acquired || !res.lease) throw new Error("lease not acquired");
      await releaseLease(database.db, res.lease);
    }
    latencies.sort((a, b) => a - b);
    rows.push([dialect.name, Math.round(linesPerSec).toLocaleString("en-US"), percentile(latencies, 50).toFixed(3), percentile(latencies, 99).toFixed(3)]);
  } finally {
    await database.close();
    await tdb.drop();
  }
}

const header = ["dialect", "log lines/s (batches of 100)", "lease acquire p50 ms", "lease acquire p99 ms"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
const line = (r: readonly string[]) => r.map((c, i) => c.padStart(widths[i] ?? 0)).join(" | ");
console.log("metadata benchmark");
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
for (const r of rows) console.log(line(r));
