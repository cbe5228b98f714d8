import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { removeImagesOfBuilds } from "../e2e/app-fixture.js";
import { cliEnv, listBuilds } from "../e2e/cli-process.js";
import { startServe, type ServeProcess } from "../rpc/serve-process.js";
import { storedLog } from "./fault-kit.js";

const images = 20;
const callersPerImage = 10;
const connections = 20;
/**
 * No call may outlive this: a caller that hangs fails the test with its image
 * named. It leaves room for twenty builds on a two-core machine loaded by
 * other work.
 */
const callBudgetMs = 240_000;

/** What one caller got: its last event, or the error that ended the call. */
interface Answer {
  readonly dir: string;
  readonly last: string;
  readonly image: string;
  readonly digest: string;
  readonly cached: boolean;
  readonly buildId: string;
  readonly error: string;
}

describe("200 concurrent callers for 20 images over the network", () => {
  let repo: TestGitRepo;
  let registry: TestRegistry;
  let data: TempDir;
  let server: ServeProcess;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    const nonce = randomBytes(6).toString("hex");
    const files: Record<string, string> = {};
    for (let i = 0; i < images; i++) {
      files[`app${i}/Containerfile`] = "FROM local/busybox:1\nCOPY id.txt /id.txt\n";
      files[`app${i}/id.txt`] = `${nonce}-${i}\n`;
    }
    repo = await makeGitRepo(files);
    registry = await startRegistry();
    data = await tempDir("buildplane-fault-load-");
    env = cliEnv(data.path, {
      BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path,
      BUILDPLANE_REGISTRY_URL: registry.host,
      BUILDPLANE_REGISTRY_INSECURE: "true",
      BUILDPLANE_SYSTEM_MAX_CONCURRENT_BUILDS: "2",
      BUILDPLANE_SYSTEM_MAX_BUILD_WAIT_SECS: "600",
    });
    server = await startServe([], env);
  });
  after(async () => {
    server?.kill();
    await server?.exited;
    if (env) await removeImagesOfBuilds("docker", (await listBuilds(env).catch(() => [])).map((b) => b.id));
    await registry?.stop();
    await repo?.remove();
    await data?.remove();
  });

  test("every caller gets an answer, each image is built once, and every build's record and log are stored", { timeout: 330_000 }, async () => {
    const managers = Array.from({ length: connections }, () => new Http2SessionManager(server.url));
    const clients = managers.map((sessionManager) => createClient(ResolverService, createGrpcTransport({ baseUrl: server.url, sessionManager })));
    const call = async (n: number): Promise<Answer> => {
      const dir = `app${n % images}`;
      let last = "";
      let ready = { image: "", digest: "", cached: false };
      let buildId = "";
      try {
        const stream = clients[n % connections]!.ensureImage(
          { spec: { source: { repository: repo.url, ref: repo.commit, dir } } },
          { signal: AbortSignal.timeout(callBudgetMs) },
        );
        for await (const res of stream) {
          const e = res.event;
          if (!e) continue;
          last = e.event.case ?? "";
          if (e.buildId) buildId = e.buildId;
          if (e.event.case === "ready") ready = e.event.value;
        }
        return { dir, last, ...ready, buildId, error: "" };
      } catch (err) {
        const c = ConnectError.from(err);
        return { dir, last, ...ready, buildId, error: `${c.code} ${c.rawMessage}` };
      }
    };
    let answers: Answer[];
    try {
      answers = await Promise.all(Array.from({ length: images * callersPerImage }, (_, n) => call(n)));
    } finally {
      for (const m of managers) m.abort();
    }

    const failed = answers.filter((a) => a.last !== "ready" || a.error !== "");
    assert.deepEqual(failed, [], `${failed.length} callers got no image`);
    assert.equal(answers.length, 200);
    const byDir = new Map<string, Answer[]>();
    for (const a of answers) byDir.set(a.dir, [...(byDir.get(a.dir) ?? []), a]);
    assert.equal(byDir.size, images);
    for (const [dir, group] of byDir) {
      assert.equal(new Set(group.map((a) => `${a.image}@${a.digest}`)).size, 1, `${dir}: every caller got the same image and digest`);
      assert.ok(group[0]?.image.startsWith(`${registry.host}/`), group[0]?.image);
    }
    assert.equal(new Set(answers.map((a) => a.image)).size, images);

    const records = await listBuilds(env);
    assert.equal(records.length, images, `one build per image: ${records.map((r) => `${r.image} ${r.status}`).join("\n")}`);
    assert.deepEqual([...new Set(records.map((r) => r.status))], ["succeeded"]);
    assert.equal(new Set(records.map((r) => r.imageKey)).size, images);
    for (const a of answers.filter((x) => !x.cached)) assert.ok(records.some((r) => r.id === a.buildId), `the build ${a.buildId} a caller attached to is recorded`);
    for (const r of records) {
      const log = await storedLog(env, r.id);
      assert.ok(log.some((l) => /^Step 2\/\d+ : COPY id.txt \/id.txt$/.test(l)), `${r.id} kept its log: ${log.join("\n")}`);
    }
    assert.doesNotMatch(server.stderr(), /MaxListenersExceededWarning|unexpected error/);
  });
});
