import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../libs/gen/grpc/health/v1/health_pb.js";
import { runCommand } from "../helpers/run-command.js";
import { tempDir } from "../helpers/temp-dir.js";
import { startServe, type ServeProcess } from "../rpc/serve-process.js";
import { containersWith, eventually, makeAppRepo, removeImages } from "./app-fixture.js";
import { cliEnv, describeRun, listBuilds, runCli, startCli } from "./cli-process.js";

/** Resolves with the server's exit, or rejects when it is still running after `ms`. */
async function exitWithin(server: ServeProcess, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`buildplane serve still runs ${ms} ms after SIGTERM:\n${server.stderr()}`)), ms);
  });
  try {
    return await Promise.race([server.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe("buildplane serve on SIGTERM", () => {
  it("turns NOT_SERVING, refuses new builds with unavailable, and lets a running build finish within the grace", { timeout: 240_000 }, async (t) => {
    const repo = await makeAppRepo();
    await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo step-started && sleep 8 && echo step-done-${repo.nonce}\n` });
    const other = await makeAppRepo();
    const serverData = await tempDir("buildplane-e2e-data-");
    const clientData = await tempDir("buildplane-e2e-data-");
    const images: string[] = [];
    let sessions!: Http2SessionManager;
    // No --shutdown-grace: the grace is the build timeout, 120 s here.
    const env = cliEnv(serverData.path, { BUILDPLANE_SOURCE_LOCAL_ROOTS: `${repo.path},${other.path}`, BUILDPLANE_BUILDER_BUILD_TIMEOUT_SECS: "120" });
    const server = await startServe([], env);
    sessions = new Http2SessionManager(server.url);
    t.after(async () => {
      sessions.abort();
      server.kill();
      await server.exited;
      await removeImages("docker", images);
      await repo.remove();
      await other.remove();
      await serverData.remove();
      await clientData.remove();
    });
    const client = cliEnv(clientData.path);
    const build = startCli(["build", repo.url, "--dir", "app", "--json", "--server", server.url], client);
    await build.waitFor((e) => e.type === "log" && e["text"] === "step-started");

    server.child.kill("SIGTERM");
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url, sessionManager: sessions }));
    assert.ok(
      await eventually(async () => (await health.check({ service: "" })).status === Status.NOT_SERVING, 10_000),
      "the server reports NOT_SERVING while it drains",
    );
    const refused = await runCli(["build", other.url, "--dir", "app", "--json", "--server", server.url], client);
    assert.equal(refused.code, 1, describeRun(refused));
    assert.equal(refused.last?.type, "failed", describeRun(refused));
    assert.equal(refused.last["code"], "unavailable", describeRun(refused));
    assert.equal(refused.last["message"], "the server is shutting down; retry on another replica");

    const finished = await build.done;
    assert.equal(finished.code, 0, describeRun(finished));
    assert.equal(finished.last?.type, "ready", describeRun(finished));
    images.push(String(finished.last["image"]));
    assert.ok(finished.events.some((e) => e.type === "log" && e["text"] === `step-done-${repo.nonce}`), "the build ran to its end");
    assert.equal(await exitWithin(server, 30_000), 0, server.stderr());
    sessions.abort();

    const records = await listBuilds(env);
    assert.deepEqual(records.map((r) => [r.id, r.status]), [[finished.last["buildId"], "succeeded"]], "the refused build left no record");
  });

  it("cancels a build still running when a short grace ends, tells its caller and records it canceled by the shutdown", { timeout: 240_000 }, async (t) => {
    const repo = await makeAppRepo();
    const marker = `shutdown-${repo.nonce}`;
    await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo step-started && sleep 300 && echo ${marker}\n` });
    const serverData = await tempDir("buildplane-e2e-data-");
    const clientData = await tempDir("buildplane-e2e-data-");
    const env = cliEnv(serverData.path, { BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path });
    const server = await startServe(["--shutdown-grace", "3"], env);
    t.after(async () => {
      server.kill();
      await server.exited;
      for (const id of await containersWith(marker)) await runCommand("docker", ["rm", "--force", id]).catch(() => undefined);
      await repo.remove();
      await serverData.remove();
      await clientData.remove();
    });
    const build = startCli(["build", repo.url, "--dir", "app", "--json", "--server", server.url], cliEnv(clientData.path));
    await build.waitFor((e) => e.type === "log" && e["text"] === "step-started");

    server.child.kill("SIGTERM");
    const stoppedAt = Date.now();
    const r = await build.done;
    assert.equal(r.code, 1, describeRun(r));
    assert.equal(r.last?.type, "failed", describeRun(r));
    assert.equal(r.last["code"], "canceled", describeRun(r));
    assert.equal(r.last["message"], `build ${String(r.last["buildId"])} was canceled: server shutting down`);
    assert.ok(Date.now() - stoppedAt >= 3000, "the build ran on through the grace");
    assert.equal(await exitWithin(server, 60_000), 0, server.stderr());
    assert.ok(await eventually(async () => (await containersWith(marker)).length === 0, 30_000), "no build container is left");

    const [record] = await listBuilds(env);
    assert.equal(record?.status, "canceled", JSON.stringify(record));
    assert.equal(record.errorCode, "canceled");
    assert.equal(record.errorMessage, `build ${record.id} was canceled: server shutting down`);
  });
});
