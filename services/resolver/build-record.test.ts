import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { useSqliteMetadataHarness } from "../../test/metadata/metadata-client.js";
import { createBuildRecord } from "./build-record.js";
import { CallError } from "./call-error.js";
import type { LogEntry, NewBuild } from "./domain.js";
import { RecordFinishedError } from "./flow-errors.js";
import { createMetadataPort } from "./metadata-port.js";
import { holderIdentity } from "./holder-identity.js";
import { takeLease } from "./lease-take.js";
import { createOutageBudget } from "./outage-budget.js";

const limit = { timeout: 60_000 };

function line(text: string): LogEntry {
  return { seq: 0n, stream: "stdout", text, time: undefined };
}

function queued(imageKey: string, image: string): NewBuild {
  return {
    appId: "",
    imageKey,
    image,
    commit: "",
    treeHash: "",
    mode: "command",
    status: "queued",
    requester: "",
    source: { repository: "", ref: "", dir: "", authName: "" },
    containerfile: "",
    args: [],
    target: "",
    platform: "",
  };
}

/**
 * A build record written through its lease's fencing token, against the
 * metadata service over a real SQLite database.
 */
describe("build record writer", () => {
  const h = useSqliteMetadataHarness();
  const port = () => createMetadataPort(h.client);

  const budget = () => createOutageBudget({ budgetMs: 5_000 });
  const lease = async (imageKey: string, self = holderIdentity("host-a", process.pid, "rec00001"), isAlive?: (pid: number) => boolean) => {
    const took = await takeLease({ leases: port(), budget: budget(), self, ttlMs: 60_000, ...(isAlive ? { isAlive } : {}) }, `build:${imageKey}`);
    assert.ok(took.taken, `lease build:${imageKey} taken`);
    return took.lease;
  };
  const readLog = async (id: string): Promise<string[]> => {
    const texts: string[] = [];
    for await (const res of h.client.streamLogs({ buildId: id, fromSeq: 0n, follow: false })) texts.push(...res.lines.map((l) => l.text));
    return texts;
  };

  test("writes updates, log lines in order and the outcome, all under the lease's token", limit, async () => {
    const held = await lease("k-ok");
    const record = await createBuildRecord({ builds: port(), budget: budget(), token: held.token }, queued("k-ok", "cli-rec:1"));
    assert.match(record.id, /^b_/);
    record.update({ status: "running" });
    for (let i = 1; i <= 600; i++) record.log(line(`line ${i}`));
    await record.finish({ status: "succeeded", digest: `sha256:${"c".repeat(64)}` });
    assert.equal(record.failed.aborted, false);
    const stored = (await h.client.getBuild({ id: record.id })).build;
    assert.equal(stored?.status, BuildStatus.SUCCEEDED);
    assert.equal(stored?.digest, `sha256:${"c".repeat(64)}`);
    assert.deepEqual(await readLog(record.id), Array.from({ length: 600 }, (_, i) => `line ${i + 1}`));
    await assert.rejects(record.finish({ status: "failed" }), (e: unknown) => {
      assert.ok(e instanceof RecordFinishedError);
      assert.equal(e.code, "internal");
      assert.equal(e.message, `build ${record.id} record was already finished`);
      return true;
    });
  });

  test("stops writing and fails with failed_precondition once the lease was taken from its holder", limit, async () => {
    const dead = holderIdentity("host-a", 999_997, "dead0003");
    const held = await lease("k-fenced", dead);
    const record = await createBuildRecord({ builds: port(), budget: budget(), token: held.token }, queued("k-fenced", "cli-rec:2"));
    record.log(line("before the lease moved"));
    await lease("k-fenced", undefined, () => false);
    record.log(line("after the lease moved"));
    await assert.rejects(record.finish({ status: "succeeded" }), (e: unknown) => {
      assert.ok(e instanceof CallError, "the metadata service's refusal, as its port gives it");
      assert.equal(e.code, "failedPrecondition");
      // Taking the lease from a dead holder marked its build abandoned: final, so the late writes are refused.
      assert.equal(e.message, `build ${record.id} is abandoned, a final status: it takes no more log lines`);
      return true;
    });
    assert.equal(record.failed.aborted, true, "the build is told to stop");
    const stored = (await h.client.getBuild({ id: record.id })).build;
    assert.equal(stored?.status, BuildStatus.ABANDONED, "the fenced holder wrote no outcome");
    assert.equal((await readLog(record.id)).includes("after the lease moved"), false);
  });
});
