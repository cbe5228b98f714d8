import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { makeAppRepo, removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, listBuilds, startCli } from "../e2e/cli-process.js";
import { startServe } from "../rpc/serve-process.js";
import type { TestGitRepo } from "../helpers/make-git-repo.js";
import { isLog, logTexts, missingFrom, storedLog } from "./fault-kit.js";

const limit = { timeout: 300_000 };

describe("SIGKILL of the all-in-one server mid-build", () => {
  let repo: TestGitRepo & { readonly nonce: string };
  let data: TempDir;
  let client: TempDir;
  const images: string[] = [];
  before(async () => {
    repo = await makeAppRepo();
    await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo begin-${repo.nonce} && sleep 20 && echo end-${repo.nonce}\n` });
    data = await tempDir("buildplane-fault-server-");
    client = await tempDir("buildplane-fault-client-");
  });
  after(async () => {
    await removeImages("docker", images);
    await repo.remove();
    await data.remove();
    await client.remove();
  });

  test("the caller gets unavailable; a restarted server marks the build abandoned at start, keeps its log and builds again", limit, async (t) => {
    // A lease far longer than the test: recovery must not wait for it to expire.
    const env = cliEnv(data.path, { BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path, BUILDPLANE_BUILDER_LEASE_TTL_SECS: "600" });
    const first = await startServe([], env);
    t.after(() => first.kill());
    const args = (url: string) => ["build", repo.url, "--dir", "app", "--json", "--server", url];
    const caller = startCli(args(first.url), cliEnv(client.path));
    await caller.waitFor((e) => e.type === "log" && e["text"] === `begin-${repo.nonce}`);
    first.child.kill("SIGKILL");
    assert.equal(await first.exited, "SIGKILL");

    const cut = await caller.done;
    assert.equal(cut.code, 1, describeRun(cut));
    assert.equal(cut.last?.type, "failed", describeRun(cut));
    assert.equal(cut.last["code"], "unavailable", describeRun(cut));
    const abandonedId = String(cut.events.find((e) => e.type === "started")?.["buildId"]);
    assert.equal(cut.last["buildId"], abandonedId);
    assert.match(
      String(cut.last["message"]),
      new RegExp(`^the connection to the server was lost during build ${abandonedId} \\(.+\\): the server may have stopped; run the command again to build or attach$`),
    );

    const second = await startServe([], env);
    t.after(() => second.kill());
    const next = await startCli(args(second.url), cliEnv(client.path)).done;
    assert.equal(next.code, 0, describeRun(next));
    assert.equal(next.last?.type, "ready", describeRun(next));
    assert.equal(next.last["cached"], false);
    images.push(String(next.last["image"]));
    assert.ok(next.events.some(isLog(`end-${repo.nonce}`)), "the build ran to its end on the new server");

    const records = await listBuilds(env);
    assert.deepEqual(records.map((r) => r.status), ["succeeded", "abandoned"], JSON.stringify(records));
    const [succeeded, abandoned] = records;
    assert.equal(succeeded?.id, next.last["buildId"]);
    assert.equal(abandoned?.imageKey, succeeded?.imageKey);
    assert.equal(abandoned?.id, abandonedId);
    assert.notEqual(abandoned?.errorMessage, "", "the abandoned record says why");

    // Every line the first caller was streamed is in the abandoned build's stored log.
    const seen = logTexts(cut.events);
    assert.ok(seen.some((l) => l.includes(`begin-${repo.nonce}`)));
    assert.deepEqual(missingFrom(await storedLog(env, abandoned?.id ?? ""), seen), []);
    assert.deepEqual(missingFrom(await storedLog(env, succeeded?.id ?? ""), logTexts(next.events)), []);
  });
});
