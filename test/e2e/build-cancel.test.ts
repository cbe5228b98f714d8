import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { describe, it } from "node:test";
import { runCommand } from "../helpers/run-command.js";
import { tempDir } from "../helpers/temp-dir.js";
import { containersWith, eventually, makeAppRepo } from "./app-fixture.js";
import { cliEnv, describeRun, listBuilds, startCli } from "./cli-process.js";
import { buildLeaseIsFree } from "./metadata-db.js";

describe("buildplane build interrupted", () => {
  it("stops the engine build within 5 s of SIGINT, leaves no build container and no temp file, and records the build as canceled; exits 130", async (t) => {
    const repo = await makeAppRepo();
    const marker = `cancel-${repo.nonce}`;
    await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo step-started && sleep 60 && echo ${marker}\n` });
    const data = await tempDir("buildplane-e2e-data-");
    const tmp = await tempDir("buildplane-e2e-tmp-");
    t.after(async () => {
      for (const id of await containersWith(marker)) await runCommand("docker", ["rm", "--force", id]).catch(() => undefined);
      await repo.remove();
      await data.remove();
      await tmp.remove();
    });
    const env = cliEnv(data.path, { TMPDIR: tmp.path });
    const cli = startCli(["build", repo.url, "--dir", "app", "--json"], env);
    await cli.waitFor((e) => e.type === "log" && e["text"] === "step-started");
    assert.equal((await containersWith(marker)).length, 1, "the RUN step's container is there while it runs");

    cli.child.kill("SIGINT");
    const interruptedAt = Date.now();
    const r = await cli.done;
    assert.equal(r.code, 130, describeRun(r));
    assert.equal(r.last?.type, "failed", describeRun(r));
    assert.equal(r.last["code"], "canceled");
    assert.ok(await eventually(async () => (await containersWith(marker)).length === 0, interruptedAt + 5000 - Date.now()), "no build container is left 5 s after SIGINT");
    assert.deepEqual((await readdir(tmp.path)).filter((n) => n.startsWith("buildplane-")), [], "no temp file is left");

    const [record] = await listBuilds(env);
    assert.equal(record?.status, "canceled", JSON.stringify(record));
    assert.equal(record.errorCode, "canceled");
    assert.ok(buildLeaseIsFree(data.path, record.imageKey), "the build lease is released");
  });
});
