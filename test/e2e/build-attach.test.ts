import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { describe, it } from "node:test";
import { runCommand } from "../helpers/run-command.js";
import { tempDir } from "../helpers/temp-dir.js";
import { startServe } from "../rpc/serve-process.js";
import { containersWith, eventually, makeAppRepo, removeImages } from "./app-fixture.js";
import { cliEnv, describeRun, runCli, startCli, type CliEvent, type CliResult } from "./cli-process.js";
import { buildLeaseIsFree } from "./metadata-db.js";

/** The log lines of a run as `seq text`, in the order they arrived. */
function logLines(r: CliResult): string[] {
  return r.events.filter((e) => e.type === "log").map((e) => `${String(e["seq"])} ${String(e["text"])}`);
}

const isLog = (text: string) => (e: CliEvent) => e.type === "log" && e["text"] === text;

/** Entries a buildplane process left in its TMPDIR. */
async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith("buildplane-"));
}

describe("late callers and callers that leave, through buildplane serve", () => {
  it("a caller arriving mid-build gets the earlier log lines, in the server process and from another process, and the stored log is the streamed one", async (t) => {
    const repo = await makeAppRepo();
    const marker = `attach-${repo.nonce}`;
    // The RUN step prints two lines, then runs long enough for two more callers to arrive.
    await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo first-${marker} && echo second && sleep 20 && echo third\n` });
    const serverData = await tempDir("buildplane-e2e-data-");
    const clientData = await tempDir("buildplane-e2e-data-");
    const server = await startServe([], cliEnv(serverData.path, { BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path }));
    const images: string[] = [];
    t.after(async () => {
      server.child.kill("SIGTERM");
      await Promise.race([server.exited, new Promise((r) => setTimeout(r, 10_000))]);
      server.kill();
      for (const id of await containersWith(marker)) await runCommand("docker", ["rm", "--force", id]).catch(() => undefined);
      await removeImages("docker", images);
      await repo.remove();
      await serverData.remove();
      await clientData.remove();
    });
    const args = ["build", repo.url, "--dir", "app", "--json"];

    const first = startCli([...args, "--server", server.url], cliEnv(clientData.path));
    await first.waitFor(isLog("second"));
    // Attaches to the build running in the server process.
    const attached = startCli([...args, "--server", server.url], cliEnv(clientData.path));
    await attached.waitFor(isLog("second"));
    // Another process on the server's data dir: the build lease is taken, so it follows the stored log.
    const follower = startCli(args, cliEnv(serverData.path));
    await follower.waitFor(isLog("second"));
    const [a, b, c] = await Promise.all([first.done, attached.done, follower.done]);

    for (const r of [a, b, c]) {
      assert.equal(r.code, 0, describeRun(r));
      assert.equal(r.last?.type, "ready", describeRun(r));
    }
    const image = String(a.last?.["image"]);
    images.push(image);
    assert.equal(b.last?.["image"], image);
    assert.equal(c.last?.["image"], image);
    assert.equal(b.last?.["buildId"], a.last?.["buildId"], "the late caller got the same build");

    const streamed = logLines(a);
    assert.ok(streamed.some((l) => l.endsWith(` first-${marker}`)) && streamed.some((l) => l.endsWith(" third")), streamed.join("\n"));
    assert.deepEqual(
      streamed.map((l) => Number(l.split(" ")[0])),
      streamed.map((_, i) => i + 1),
      "sequence numbers run from 1 with no gap",
    );
    assert.deepEqual(logLines(b), streamed, "the caller attached in the server process got every line, the earlier ones included");
    assert.deepEqual(logLines(c), streamed, "the caller in another process got every line from the stored log");

    const stored = await runCli(["builds", "logs", String(a.last?.["buildId"]), "--server", server.url], cliEnv(clientData.path));
    assert.equal(stored.code, 0, describeRun(stored));
    assert.deepEqual(stored.stdout.split("\n").filter((l) => l !== ""), streamed.map((l) => l.slice(l.indexOf(" ") + 1)), "the stored log is the streamed one");
    const records = await runCli(["builds", "list", "--json", "--server", server.url], cliEnv(clientData.path));
    assert.deepEqual(
      (JSON.parse(records.stdout) as { status: string }[]).map((r) => r.status),
      ["succeeded"],
      "three callers, one build",
    );
  });

  it("a --server caller killed mid-build stops the engine build on the server, leaves no temp files, a canceled record and a free lease", async (t) => {
    const repo = await makeAppRepo();
    const marker = `gone-${repo.nonce}`;
    await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo step-started && sleep 60 && echo ${marker}\n` });
    const serverData = await tempDir("buildplane-e2e-data-");
    const clientData = await tempDir("buildplane-e2e-data-");
    const serverTmp = await tempDir("buildplane-e2e-tmp-");
    const server = await startServe([], cliEnv(serverData.path, { TMPDIR: serverTmp.path, BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path }));
    t.after(async () => {
      server.child.kill("SIGTERM");
      await Promise.race([server.exited, new Promise((r) => setTimeout(r, 10_000))]);
      server.kill();
      for (const id of await containersWith(marker)) await runCommand("docker", ["rm", "--force", id]).catch(() => undefined);
      await repo.remove();
      await serverData.remove();
      await clientData.remove();
      await serverTmp.remove();
    });
    const client = startCli(["build", repo.url, "--dir", "app", "--json", "--server", server.url], cliEnv(clientData.path));
    const started = await client.waitFor((e) => e.type === "log" && e["text"] === "step-started");
    assert.equal((await containersWith(marker)).length, 1, "the RUN step's container is there while it runs");

    client.child.kill("SIGKILL");
    const killedAt = Date.now();
    await client.done;
    assert.ok(await eventually(async () => (await containersWith(marker)).length === 0, killedAt + 5000 - Date.now()), "the engine build stops within 5 s of the caller leaving");

    const buildId = String(started["buildId"]);
    const finalStatus = async (): Promise<string> => {
      const show = await runCli(["builds", "show", buildId, "--json", "--server", server.url], cliEnv(clientData.path));
      return (JSON.parse(show.stdout || "{}") as { status?: string }).status ?? "";
    };
    assert.ok(await eventually(async () => (await finalStatus()) === "canceled", 10_000), `build ${buildId} is recorded as canceled`);
    const show = await runCli(["builds", "show", buildId, "--json", "--server", server.url], cliEnv(clientData.path));
    const record = JSON.parse(show.stdout) as { errorCode: string; imageKey: string };
    assert.equal(record.errorCode, "canceled");
    assert.ok(buildLeaseIsFree(serverData.path, record.imageKey), "the build lease is released");
    assert.deepEqual(await leftovers(serverTmp.path), [], "no temp file of the build is left");
  });

  it("a process following another's build takes it over when that build is canceled, and ends ready with one succeeded build", async (t) => {
    const repo = await makeAppRepo();
    const marker = `takeover-${repo.nonce}`;
    await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo step-started && sleep 12 && echo ${marker}\nCMD ["echo", "${marker}"]\n` });
    const data = await tempDir("buildplane-e2e-data-");
    const images: string[] = [];
    t.after(async () => {
      for (const id of await containersWith(marker)) await runCommand("docker", ["rm", "--force", id]).catch(() => undefined);
      await removeImages("docker", images);
      await repo.remove();
      await data.remove();
    });
    const args = ["build", repo.url, "--dir", "app", "--json"];
    const leader = startCli(args, cliEnv(data.path));
    await leader.waitFor(isLog("step-started"));
    const follower = startCli(args, cliEnv(data.path));
    await follower.waitFor(isLog("step-started"));

    leader.child.kill("SIGINT");
    const led = await leader.done;
    assert.equal(led.last?.["code"], "canceled", describeRun(led));
    const followed = await follower.done;
    assert.equal(followed.code, 0, describeRun(followed));
    assert.equal(followed.last?.type, "ready", describeRun(followed));
    images.push(String(followed.last?.["image"]));
    assert.ok(
      followed.events.some((e) => e.type === "log" && /in another process ended canceled; taking it over$/.test(String(e["text"]))),
      "the follower says it takes the build over",
    );
    assert.equal(followed.events.filter((e) => e.type === "started").length, 2, "one started event for the followed build, one for its own");
    const records = await runCli(["builds", "list", "--json"], cliEnv(data.path));
    assert.deepEqual((JSON.parse(records.stdout) as { status: string }[]).map((r) => r.status), ["succeeded", "canceled"]);
  });
});
