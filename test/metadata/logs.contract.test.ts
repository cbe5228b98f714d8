import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { BuildStatus, LogStream } from "../../libs/gen/buildplane/v1/common_pb.js";
import type { StreamLogsResponse } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { startMetadataHarness, type MetadataHarness } from "./metadata-client.js";
import { expectRpcError } from "./rpc-assert.js";
import { testDialects, type TestDatabase } from "./test-databases.js";

const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ stream: LogStream.STDOUT, text: `line ${from + i}` }));

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
  describe(`metadata build logs on ${dialect.name}`, () => {
    let tdb: TestDatabase;
    let h: MetadataHarness;
    const newBuild = async (): Promise<string> => (await h.client.createBuild({ build: { imageKey: "logs" } })).build?.id ?? "";
    before(async () => {
      tdb = await dialect.create();
      h = await startMetadataHarness(tdb.dbConnection, { maxLogLinesPerBuild: 20 });
    });
    after(async () => {
      await h.close();
      await tdb.drop();
    });

    test("assigns gapless sequence numbers and replays from any sequence number", async () => {
      const id = await newBuild();
      assert.equal((await h.client.appendLogs({ buildId: id, lines: lines(1, 3) })).lastSeq, 3n);
      assert.equal((await h.client.appendLogs({ buildId: id, lines: lines(4, 2) })).lastSeq, 5n);
      const all = await collect(h.client.streamLogs({ buildId: id }));
      assert.deepEqual(all.seqs, [1, 2, 3, 4, 5]);
      assert.deepEqual(all.texts, ["line 1", "line 2", "line 3", "line 4", "line 5"]);
      assert.equal(all.final, BuildStatus.UNSPECIFIED);
      assert.deepEqual((await collect(h.client.streamLogs({ buildId: id, fromSeq: 4n }))).seqs, [4, 5]);
    });

    test("drops lines past the cap and keeps one marker line counting them", async () => {
      const id = await newBuild();
      await h.client.appendLogs({ buildId: id, lines: lines(1, 18) });
      const res = await h.client.appendLogs({ buildId: id, lines: lines(19, 5) });
      assert.equal(res.dropped, 3n);
      assert.equal(res.lastSeq, 21n);
      const later = await h.client.appendLogs({ buildId: id, lines: lines(24, 4) });
      assert.equal(later.dropped, 4n);
      assert.equal(later.lastSeq, 21n);
      const all = await collect(h.client.streamLogs({ buildId: id }));
      assert.equal(all.seqs.length, 21);
      assert.equal(all.texts[19], "line 20");
      assert.equal(all.texts[20], "[7 log lines dropped: this build reached the limit of 20 lines (system.max_log_lines_per_build)]");
    });

    test("truncates an oversized line with a marker instead of refusing it", async () => {
      const id = await newBuild();
      await h.client.appendLogs({ buildId: id, lines: [{ stream: LogStream.STDERR, text: "é".repeat(40_000) + "\u0000end" }] });
      const [line] = (await collect(h.client.streamLogs({ buildId: id }))).texts;
      assert.ok(line);
      assert.ok(Buffer.byteLength(line) <= 64 * 1024, `line is ${Buffer.byteLength(line)} bytes`);
      assert.ok(line.startsWith("éé"));
      assert.equal(line.slice(-60), " … [line truncated: 80006 bytes, kept the first 65472 bytes]".slice(-60));
    });

    test("follows new lines until the build is final, each once and in order", async () => {
      const id = await newBuild();
      await h.client.updateBuild({ id, status: BuildStatus.RUNNING });
      await h.client.appendLogs({ buildId: id, lines: lines(1, 2) });
      const following = collect(h.client.streamLogs({ buildId: id, follow: true }));
      for (let i = 0; i < 6; i++) {
        await h.client.appendLogs({ buildId: id, lines: lines(3 + i * 3, 3) });
        await new Promise((r) => setTimeout(r, 5));
      }
      await h.client.updateBuild({ id, status: BuildStatus.FAILED, errorMessage: "boom" });
      const got = await following;
      assert.deepEqual(got.seqs, Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal(got.final, BuildStatus.FAILED);
    });

    test("ends a follow stream when the caller aborts", async () => {
      const id = await newBuild();
      const ac = new AbortController();
      const stream = collect(h.client.streamLogs({ buildId: id, follow: true }, { signal: ac.signal }));
      setTimeout(() => ac.abort(), 50);
      await assert.rejects(stream, (err: Error) => /abort|cancel/i.test(err.message));
    });

    test("refuses lines for a final build and for an unknown build", async () => {
      const id = await newBuild();
      await h.client.updateBuild({ id, status: BuildStatus.CANCELED });
      await expectRpcError(
        h.client.appendLogs({ buildId: id, lines: lines(1, 1) }),
        Code.FailedPrecondition,
        `build ${id} is canceled, a final status: it takes no more log lines`,
      );
      await expectRpcError(h.client.appendLogs({ buildId: "b_missing", lines: lines(1, 1) }), Code.NotFound, "build b_missing not found");
      await expectRpcError(collect(h.client.streamLogs({ buildId: "b_missing" })), Code.NotFound, "build b_missing not found");
    });
  });
}
