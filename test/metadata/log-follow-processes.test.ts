import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import type { StreamLogsResponse } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { exited, spawnFixture } from "./child-process.js";
import { startMetadataHarness, type MetadataHarness } from "./metadata-client.js";
import { testDialects, type TestDatabase } from "./test-databases.js";

/** Batches the writer process appends, 10 lines each (see fixtures/log-writer.ts). */
const batches = 12;

async function collect(stream: AsyncIterable<StreamLogsResponse>): Promise<{ seqs: number[]; texts: string[]; final: BuildStatus }> {
  const seqs: number[] = [];
  const texts: string[] = [];
  let final = BuildStatus.UNSPECIFIED;
  for await (const msg of stream) {
    for (const l of msg.lines) {
      seqs.push(Number(l.seq));
      texts.push(l.text);
    }
    if (msg.finalStatus !== BuildStatus.UNSPECIFIED) final = msg.finalStatus;
  }
  return { seqs, texts, final };
}

for (const dialect of testDialects) {
  describe(`following build logs across processes on ${dialect.name}`, () => {
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

    test("streams every line another process appends, once and in order, and ends at the final status it sets", { timeout: 60_000 }, async () => {
      const { build } = await h.client.createBuild({ build: { imageKey: "follow", status: BuildStatus.RUNNING } });
      const id = build?.id ?? "";
      const abort = new AbortController();
      // The follower reads through this process's own database handle; the writer has its own, in a child process.
      const following = collect(h.client.streamLogs({ buildId: id, follow: true }, { signal: abort.signal }));
      const writer = spawnFixture("log-writer.ts", [tdb.dbConnection, id, String(batches), "succeeded"]);
      const written = exited(writer).catch((err: unknown) => {
        abort.abort();
        throw err;
      });
      const [code, got] = await Promise.all([written, following]);
      assert.equal(code, 0);
      assert.deepEqual(got.seqs, Array.from({ length: batches * 10 }, (_, i) => i + 1));
      assert.deepEqual(got.texts, Array.from({ length: batches * 10 }, (_, i) => `batch ${Math.floor(i / 10)} line ${i % 10}`));
      assert.equal(got.final, BuildStatus.SUCCEEDED);
    });
  });
}
