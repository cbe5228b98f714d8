import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { freePort } from "../helpers/free-port.js";
import { runCommand } from "../helpers/run-command.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { containersWith, eventually, makeAppRepo, removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, listBuilds, startCli } from "../e2e/cli-process.js";
import { startServe, type ServeProcess } from "../rpc/serve-process.js";
import type { TestGitRepo } from "../helpers/make-git-repo.js";
import { logTexts, missingFrom, storedLog } from "./fault-kit.js";

const limit = { timeout: 240_000 };
const buildToken = `build-${randomUUID()}`;
const servicesToken = `services-${randomUUID()}`;

describe("SIGKILL of the builder service process of a split install mid-build", () => {
  let repo: TestGitRepo & { readonly nonce: string };
  let dir: TempDir;
  let main: ServeProcess;
  let builder: ServeProcess | undefined;
  let builderPort: number;
  let mainEnv: NodeJS.ProcessEnv;
  const images: string[] = [];
  const shared = (dataDir: string): NodeJS.ProcessEnv =>
    cliEnv(dataDir, {
      BUILDPLANE_SERVICES_TOKEN: servicesToken,
      BUILDPLANE_SERVICES_BUILDER_URL: `http://127.0.0.1:${builderPort}`,
      BUILDPLANE_SECURITY_BUILD_TOKEN: buildToken,
      BUILDPLANE_SECURITY_ADMIN_OVER_TCP: "true",
      BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: `node-${servicesToken}`,
      BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path,
    });
  const startBuilder = async () => {
    builder = await startServe(["--services", "builder", "--port", String(builderPort)], shared(join(dir.path, "builder")));
  };
  before(async () => {
    repo = await makeAppRepo();
    await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo begin-${repo.nonce} && sleep 20 && echo end-${repo.nonce}\n` });
    dir = await tempDir("buildplane-fault-split-");
    builderPort = await freePort();
    await startBuilder();
    mainEnv = shared(join(dir.path, "main"));
    main = await startServe(["--services", "config,metadata,source,resolver"], mainEnv);
  });
  after(async () => {
    main?.kill();
    builder?.kill();
    await main?.exited;
    await builder?.exited;
    for (const id of await containersWith(`begin-${repo.nonce}`)) await runCommand("docker", ["rm", "--force", id]).catch(() => undefined);
    await removeImages("docker", images);
    await repo?.remove();
    await dir?.remove();
  });

  test("the caller gets unavailable naming the builder, the record is failed with its log, and the next build runs on the restarted builder", limit, async (t) => {
    const caller = () => startCli(["build", repo.url, "--dir", "app", "--json", "--server", main.url], cliEnv(join(dir.path, "client"), { BUILDPLANE_TOKEN: buildToken }));
    const first = caller();
    await first.waitFor((e) => e.type === "log" && e["text"] === `begin-${repo.nonce}`);
    builder?.child.kill("SIGKILL");
    assert.equal(await builder?.exited, "SIGKILL");
    const cut = await first.done;
    assert.equal(cut.code, 1, describeRun(cut));
    assert.equal(cut.last?.type, "failed", describeRun(cut));
    assert.equal(cut.last["code"], "unavailable", describeRun(cut));
    t.diagnostic(`caller saw: ${String(cut.last["message"])}`);
    const cutId = String(cut.events.find((e) => e.type === "started")?.["buildId"]);
    assert.equal(cut.last["buildId"], cutId);

    await startBuilder();
    const next = await caller().done;
    assert.equal(next.code, 0, describeRun(next));
    assert.equal(next.last?.type, "ready", describeRun(next));
    images.push(String(next.last["image"]));
    assert.ok(next.events.some((e) => e.type === "log" && e["text"] === `end-${repo.nonce}`));

    const records = await listBuilds(mainEnv);
    assert.deepEqual(records.map((r) => [r.id, r.status, r.errorCode]), [
      [next.last["buildId"], "succeeded", ""],
      [cutId, "failed", "unavailable"],
    ]);
    assert.equal(records[1]?.errorMessage, cut.last["message"]);
    assert.deepEqual(missingFrom(await storedLog(mainEnv, cutId), logTexts(cut.events)), []);
    assert.deepEqual(missingFrom(await storedLog(mainEnv, String(next.last["buildId"])), logTexts(next.events)), []);
    // The killed builder's engine build does not outlive it for long: its container is gone.
    assert.ok(await eventually(async () => (await containersWith(`sleep 20 && echo end-${repo.nonce}`)).length === 0, 60_000), "no build container is left running");
  });
});
