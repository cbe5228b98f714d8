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

  test("writes the outcome late once the database is back after an outage past the budget, and says when it is stored", limit, async () => {
    const held = await lease("k-late");
    const real = port();
    let away = false;
    let updatesTried = 0;
    const flaky: typeof real = {
      ...real,
      update: async (...args: Parameters<typeof real.update>) => {
        if (away) {
          updatesTried++;
          throw new CallError("unavailable", "metadata database postgres at db:5432/bp is not available: connection refused");
        }
        return real.update(...args);
      },
    };
    const record = await createBuildRecord({ builds: flaky, budget: createOutageBudget({ budgetMs: 100, firstDelayMs: 10 }), token: held.token }, queued("k-late", "cli-rec:3"));
    await record.lateWrite();
    record.update({ status: "running" });
    while ((await h.client.getBuild({ id: record.id })).build?.status !== BuildStatus.RUNNING) await new Promise((r) => setTimeout(r, 10));
    away = true;
    await assert.rejects(record.finish({ status: "succeeded", digest: `sha256:${"d".repeat(64)}` }), (e: unknown) => {
      assert.equal((e as { code?: string }).code, "unavailable");
      return true;
    });
    let stored = false;
    const late = record.lateWrite().then(() => (stored = true));
    const triedInBudget = updatesTried;
    while (updatesTried < triedInBudget + 1) await new Promise((r) => setTimeout(r, 20));
    assert.equal(stored, false, "not stored while the database is away");
    assert.equal((await h.client.getBuild({ id: record.id })).build?.status, BuildStatus.RUNNING);
    away = false;
    // The late write waits on unreferenced timers (it never holds a process open): keep this one alive.
    const alive = setInterval(() => {}, 100);
    await late.finally(() => clearInterval(alive));
    const build = (await h.client.getBuild({ id: record.id })).build;
    assert.equal(build?.status, BuildStatus.SUCCEEDED, "the outcome is stored once lateWrite resolves");
    assert.equal(build?.digest, `sha256:${"d".repeat(64)}`);
  });
});
