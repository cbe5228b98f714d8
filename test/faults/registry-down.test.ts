import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { freePort } from "../helpers/free-port.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { makeAppRepo, removeImagesOfBuilds } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, listBuilds, startCli } from "../e2e/cli-process.js";
import { startServe, type ServeProcess } from "../rpc/serve-process.js";
import type { TestGitRepo } from "../helpers/make-git-repo.js";
import { logTexts, missingFrom, startCuttableProxy, storedLog, type CuttableProxy } from "./fault-kit.js";

const limit = { timeout: 240_000 };

describe("the registry down during a push (its port cut and restored)", () => {
  let repo: TestGitRepo & { readonly nonce: string };
  let registry: TestRegistry;
  let proxy: CuttableProxy;
  let data: TempDir;
  let client: TempDir;
  let server: ServeProcess;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    repo = await makeAppRepo();
    await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo begin-${repo.nonce} && sleep 4 && echo end-${repo.nonce}\n` });
    registry = await startRegistry();
    proxy = await startCuttableProxy(await freePort(), registry.port);
    data = await tempDir("buildplane-fault-registry-");
    client = await tempDir("buildplane-fault-client-");
    env = cliEnv(data.path, {
      BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path,
      BUILDPLANE_REGISTRY_URL: `127.0.0.1:${proxy.port}`,
      BUILDPLANE_REGISTRY_INSECURE: "true",
    });
    server = await startServe([], env);
  });
  after(async () => {
    server?.kill();
    await server?.exited;
    await proxy?.cut();
    await registry?.stop();
    // The local name and the registry reference alike: the failed build's image was tagged locally only.
    if (data) await removeImagesOfBuilds("docker", (await listBuilds(env).catch(() => [])).map((b) => b.id));
    await repo?.remove();
    await data?.remove();
    await client?.remove();
  });

  test("the push is retried, then fails with unavailable naming the registry; once it is back the next request pushes", limit, async (t) => {
    const args = ["build", repo.url, "--dir", "app", "--json", "--server", server.url];
    const caller = startCli(args, cliEnv(client.path));
    await caller.waitFor((e) => e.type === "log" && e["text"] === `begin-${repo.nonce}`);
    await proxy.cut();
    const failed = await caller.done;
    assert.equal(failed.code, 1, describeRun(failed));
    assert.equal(failed.last?.type, "failed", describeRun(failed));
    assert.equal(failed.last["code"], "unavailable", describeRun(failed));
    t.diagnostic(`caller saw: ${String(failed.last["message"])}`);
    assert.match(String(failed.last["message"]), new RegExp(`registry "127\\.0\\.0\\.1:${proxy.port}" is unavailable`), describeRun(failed));
    assert.ok(failed.events.some((e) => e.type === "log" && e["text"] === `end-${repo.nonce}`), "the image was built before the push failed");

    await proxy.restore();
    const next = await startCli(args, cliEnv(client.path)).done;
    assert.equal(next.code, 0, describeRun(next));
    assert.equal(next.last?.type, "ready", describeRun(next));
    assert.ok(String(next.last["image"]).startsWith(`127.0.0.1:${proxy.port}/`));
    assert.notEqual(next.last["digest"], "");

    const records = await listBuilds(env);
    assert.deepEqual(records.map((r) => [r.id, r.status, r.errorCode]), [
      [next.last["buildId"], "succeeded", ""],
      [failed.last["buildId"], "failed", "unavailable"],
    ]);
    assert.equal(records[1]?.errorMessage, failed.last["message"]);
    assert.deepEqual(missingFrom(await storedLog(env, String(failed.last["buildId"])), logTexts(failed.events)), []);
    assert.deepEqual(missingFrom(await storedLog(env, String(next.last["buildId"])), logTexts(next.events)), []);
  });
});
