import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCommand } from "../helpers/run-command.js";
import { tempDir } from "../helpers/temp-dir.js";
import { containersWith, eventually, makeAppRepo } from "./app-fixture.js";
import { cliEnv, describeRun, listBuilds, runCli } from "./cli-process.js";

describe("buildplane build when the build does not succeed", () => {
  it("reports a failing RUN as a failed event with the step's output and exit code, and records the build as failed", async (t) => {
    const repo = await makeAppRepo({
      "app/Containerfile": 'FROM local/busybox:1\nCOPY nonce.txt /nonce.txt\nRUN echo "about to fail $(cat /nonce.txt)" && exit 7\n',
    });
    const data = await tempDir("buildplane-e2e-data-");
    t.after(async () => {
      await repo.remove();
      await data.remove();
    });
    const env = cliEnv(data.path);
    const r = await runCli(["build", repo.url, "--dir", "app", "--json"], env);
    assert.equal(r.code, 1, describeRun(r));
    const failed = r.last;
    assert.equal(failed?.type, "failed", describeRun(r));
    assert.equal(failed["code"], "failed_precondition");
    assert.match(String(failed["message"]), /^build of "cli-[^"]+" failed \(exit code 7\): .*returned a non-zero code: 7/);
    const tail = failed["logTail"] as string[];
    assert.ok(tail.some((line) => line === `about to fail ${repo.nonce}`), `the failing step's output is in the log tail: ${JSON.stringify(tail)}`);
    assert.ok(r.events.some((e) => e.type === "log" && e["text"] === `about to fail ${repo.nonce}`));

    const [record] = await listBuilds(env);
    assert.equal(record?.status, "failed");
    assert.equal(record.id, failed["buildId"]);
    assert.equal(record.errorCode, "failed_precondition");
    assert.equal(record.errorMessage, failed["message"]);
    const logs = await runCli(["builds", "logs", record.id], env);
    assert.match(logs.stdout, new RegExp(`^about to fail ${repo.nonce}$`, "m"));
  });

  it("stops a build that runs past builder.build_timeout_secs with deadline_exceeded and leaves no build container", async (t) => {
    const repo = await makeAppRepo();
    const marker = `timeout-${repo.nonce}`;
    await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo started && sleep 30 && echo ${marker}\n` });
    const data = await tempDir("buildplane-e2e-data-");
    t.after(async () => {
      for (const id of await containersWith(marker)) await runCommand("docker", ["rm", "--force", id]).catch(() => undefined);
      await repo.remove();
      await data.remove();
    });
    const env = cliEnv(data.path, { BUILDPLANE_BUILDER_BUILD_TIMEOUT_SECS: "2" });
    const r = await runCli(["build", repo.url, "--dir", "app", "--json"], env);
    assert.equal(r.code, 1, describeRun(r));
    assert.equal(r.last?.type, "failed", describeRun(r));
    assert.equal(r.last["code"], "deadline_exceeded");
    assert.match(String(r.last["message"]), /^build b_[0-9a-z]+ timed out after 2s \(builder\.build_timeout_secs\) and was stopped$/);
    assert.ok(await eventually(async () => (await containersWith(marker)).length === 0, 5000), "the engine build was stopped");
    const [record] = await listBuilds(env);
    assert.equal(record?.status, "failed");
    assert.equal(record.errorCode, "deadline_exceeded");
  });

  it("refuses a secret build arg on the command mode, which would record its value in the image history, before any build record exists, and never shows the value", async (t) => {
    const repo = await makeAppRepo({ "app/Containerfile": "FROM local/busybox:1\nARG TOKEN\nRUN test -n \"$TOKEN\" && echo token-present\n" });
    const data = await tempDir("buildplane-e2e-data-");
    const secret = `s3cr3t-${repo.nonce}`;
    t.after(async () => {
      await repo.remove();
      await data.remove();
    });
    const env = cliEnv(data.path, { TOKEN: secret });
    const r = await runCli(["build", repo.url, "--dir", "app", "--secret-arg", "TOKEN", "--json"], env);
    assert.equal(r.code, 1, describeRun(r));
    assert.equal(r.last?.type, "failed", describeRun(r));
    assert.equal(r.last["code"], "failed_precondition");
    assert.equal(
      r.last["message"],
      "secret build arg TOKEN is not supported by the command mode: docker and podman record build arg values in the image history",
    );
    assert.equal(r.events.find((e) => e.type === "started"), undefined, "no build started");

    const records = await listBuilds(env);
    assert.deepEqual(records, [], "the refusal came before a lease or a record");
    for (const text of [r.stdout, r.stderr]) {
      assert.ok(!text.includes(secret), "the secret value appears nowhere");
    }
  });
});
