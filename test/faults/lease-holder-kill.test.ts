import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { makeAppRepo, removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, listBuilds, startCli, type CliEvent } from "../e2e/cli-process.js";
import type { TestGitRepo } from "../helpers/make-git-repo.js";

const limit = { timeout: 300_000 };
/** Far longer than the test may run: a recovery that waited for the lease to expire would time the test out. */
const leaseTtlSecs = 600;

const isLog = (text: string) => (e: CliEvent) => e.type === "log" && String(e["text"]).includes(text);

describe("SIGKILL of the process holding a build lease", () => {
  let repo: TestGitRepo & { readonly nonce: string };
  let data: TempDir;
  const images: string[] = [];
  before(async () => {
    repo = await makeAppRepo();
    await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo begin-${repo.nonce} && sleep 15 && echo end-${repo.nonce}\n` });
    data = await tempDir("buildplane-fault-kill-");
  });
  after(async () => {
    await removeImages("docker", images);
    await repo.remove();
    await data.remove();
  });

  test("the next build on the same data dir takes the dead holder's lease at once and succeeds; records say abandoned then succeeded", limit, async () => {
    const env = cliEnv(data.path, { BUILDPLANE_BUILDER_LEASE_TTL_SECS: String(leaseTtlSecs) });
    const args = ["build", repo.url, "--dir", "app", "--json"];
    const holder = startCli(args, env);
    await holder.waitFor(isLog(`begin-${repo.nonce}`));
    const killedPid = holder.child.pid ?? 0;
    holder.child.kill("SIGKILL");
    const killed = await holder.done;
    assert.equal(killed.code, "SIGKILL");

    const next = await startCli(args, env).done;
    assert.equal(next.code, 0, describeRun(next));
    assert.equal(next.last?.type, "ready", describeRun(next));
    assert.equal(next.last?.["cached"], false);
    images.push(String(next.last?.["image"]));
    const takeover = next.events.find((e) => e.type === "log" && String(e["text"]).includes(", whose process is gone: building again"));
    assert.match(String(takeover?.["text"]), new RegExp(`^build lease build:[0-9a-f]+ was held by [^/]+/${killedPid}/[0-9a-f]+, whose process is gone: building again$`));
    assert.ok(next.events.some(isLog(`end-${repo.nonce}`)), "the build ran to its end here");

    const records = await listBuilds(env);
    assert.deepEqual(records.map((r) => r.status), ["succeeded", "abandoned"], JSON.stringify(records));
    const [succeeded, abandoned] = records;
    assert.equal(succeeded?.id, next.last?.["buildId"]);
    assert.equal(abandoned?.imageKey, succeeded?.imageKey);
    assert.equal(abandoned?.errorCode, "aborted");
    assert.equal(abandoned?.errorMessage, `build lease build:${abandoned?.imageKey} was taken over (token 2) while the build was running`);
  });
});
