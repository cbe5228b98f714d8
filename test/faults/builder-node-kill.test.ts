import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { runCommand } from "../helpers/run-command.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { containersWith, makeAppRepo, removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, listBuilds, startCli } from "../e2e/cli-process.js";
import { startServe, type ServeProcess } from "../rpc/serve-process.js";
import { startNode, type TestNode } from "../delegate/fixtures/start-node.js";
import type { TestGitRepo } from "../helpers/make-git-repo.js";
import { logTexts, missingFrom, storedLog } from "./fault-kit.js";

const nodeToken = `node-${randomUUID()}`;
const buildToken = `build-${randomUUID()}`;

describe("SIGKILL of a builder node mid-build (a main install delegating to two nodes)", () => {
  let repo: TestGitRepo & { readonly nonce: string };
  let registry: TestRegistry;
  let nodes: TestNode[];
  let data: TempDir;
  let main: ServeProcess;
  let env: NodeJS.ProcessEnv;
  const images: string[] = [];
  before(async () => {
    repo = await makeAppRepo();
    await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo begin-${repo.nonce} && sleep 20 && echo end-${repo.nonce}\n` });
    registry = await startRegistry();
    nodes = await Promise.all([startNode({ token: nodeToken }), startNode({ token: nodeToken })]);
    data = await tempDir("buildplane-fault-node-");
    env = cliEnv(data.path, {
      BUILDPLANE_BUILDER_MODE: `delegate:${nodes.map((n) => n.url).join(",")}`,
      BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: nodeToken,
      BUILDPLANE_SECURITY_BUILD_TOKEN: buildToken,
      BUILDPLANE_REGISTRY_URL: registry.host,
      BUILDPLANE_REGISTRY_INSECURE: "true",
      BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path,
    });
    main = await startServe([], env);
  });
  after(async () => {
    main?.kill();
    await main?.exited;
    for (const n of nodes ?? []) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill("SIGKILL");
    for (const id of await containersWith(`begin-${repo.nonce}`)) await runCommand("docker", ["rm", "--force", id]).catch(() => undefined);
    await removeImages("docker", images);
    await registry?.stop();
    await repo?.remove();
    await data?.remove();
  });

  test("the build fails over to the other node within the same build: the caller gets its image, one record succeeded, its log holds both attempts", { timeout: 240_000 }, async (t) => {
    const first = startCli(["build", repo.url, "--dir", "app", "--json", "--server", main.url], cliEnv(`${data.path}-client`, { BUILDPLANE_TOKEN: buildToken }));
    const started = await first.waitFor((e) => e.type === "started" && typeof e["node"] === "string");
    await first.waitFor((e) => e.type === "log" && e["text"] === `begin-${repo.nonce}`);
    const victim = nodes.find((n) => started["node"] === n.url);
    const survivor = nodes.find((n) => n !== victim);
    assert.ok(victim && survivor, String(started["node"]));
    victim.child.kill("SIGKILL");
    const done = await first.done;
    assert.equal(done.code, 0, describeRun(done));
    assert.equal(done.last?.type, "ready", describeRun(done));
    images.push(String(done.last["image"]));
    const lost = done.events.find((e) => e.type === "log" && String(e["text"]).startsWith(`builder node ${victim.url} was lost mid-build: `));
    assert.ok(lost, describeRun(done));
    t.diagnostic(`caller saw: ${String(lost["text"])}`);
    const restarted = done.events.filter((e) => e.type === "started" && typeof e["node"] === "string").map((e) => e["node"]);
    assert.deepEqual(restarted, [victim.url, survivor.url]);
    assert.ok(done.events.some((e) => e.type === "log" && e["text"] === `end-${repo.nonce}`), "the build ran to its end on the other node");

    const records = await listBuilds(env);
    assert.deepEqual(records.map((r) => [r.id, r.status]), [[done.last["buildId"], "succeeded"]]);
    assert.equal(records[0]?.builderNode, survivor.url);
    assert.deepEqual(missingFrom(await storedLog(env, String(done.last["buildId"])), logTexts(done.events)), []);
  });
});
