import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { MetadataService, type Build } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { createBearerTokenInterceptor } from "../../libs/rpc/auth-interceptor.js";
import { Secret } from "../../libs/secret/secret.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { eventually, makeAppRepo, removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, runCli } from "../e2e/cli-process.js";
import { startServe, type ServeProcess } from "../rpc/serve-process.js";
import { bitbucketCloudPush, giteaPush, githubPush, gitlabPush, type PushFixture } from "./hook-payloads.js";

const timeout = 240_000;
const hookSecret = "hook-secret-e2e-5d1f";
const adminToken = "admin-token-hooks-88a0";
const readToken = "read-token-hooks-41b7";

/**
 * A live `buildplane serve` with `[hooks] secret`: apps registered through
 * `buildplane apps add --server`, pushes posted as GitHub, GitLab, Gitea and Bitbucket Cloud
 * send them. Good signatures answer 202 and the build of the pushed commit
 * appears and succeeds; bad or missing ones answer 401 and build nothing;
 * an app with a poll interval is built without any webhook.
 */
describe("push webhooks on a live server", { timeout }, () => {
  let dir: TempDir;
  let repo: Awaited<ReturnType<typeof makeAppRepo>>;
  let server: ServeProcess;
  let metadata: Client<typeof MetadataService>;
  let sessions: Http2SessionManager;
  let env: NodeJS.ProcessEnv;
  const images = new Set<string>();

  before(async () => {
    [dir, repo] = await Promise.all([tempDir("buildplane-hooks-"), makeAppRepo()]);
    const dataDir = join(dir.path, "data");
    await mkdir(dataDir, { recursive: true });
    const config = join(dataDir, "buildplane.toml");
    await writeFile(config, `[hooks]\nsecret = "${hookSecret}"\nmax_body_bytes = 16384\n\n[security]\nadmin_token = "${adminToken}"\nread_token = "${readToken}"\n`);
    env = cliEnv(dataDir, { BUILDPLANE_TOKEN: adminToken });
    server = await startServe(["--config", config], env);
    env = { ...env, BUILDPLANE_SERVER: server.url };
    sessions = new Http2SessionManager(server.url);
    metadata = createClient(MetadataService, createGrpcTransport({ baseUrl: server.url, sessionManager: sessions, interceptors: [createBearerTokenInterceptor(new Secret(adminToken))] }));
  });
  after(async () => {
    sessions?.abort();
    server?.kill();
    await removeImages("docker", images);
    await Promise.all([repo?.remove(), dir?.remove()]);
  });

  async function post(fixture: PushFixture): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${server.url}/hooks/git`, { method: "POST", headers: fixture.headers, body: fixture.body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  async function builds(appId: string): Promise<Build[]> {
    return (await metadata.listBuilds({ appId, pageSize: 100 })).builds;
  }

  /** Waits until the app has a succeeded build of `commit` and returns it. */
  async function builtAt(appId: string, commit: string, waitMs = 120_000): Promise<Build> {
    let found: Build | undefined;
    const done = await eventually(async () => {
      found = (await builds(appId)).find((b) => b.commit === commit && b.status === BuildStatus.SUCCEEDED);
      const failed = (await builds(appId)).find((b) => b.commit === commit && b.status === BuildStatus.FAILED);
      if (failed) assert.fail(`the build of ${commit} failed: ${failed.errorCode} ${failed.errorMessage}`);
      return found !== undefined;
    }, waitMs);
    assert.ok(done && found, `no succeeded build of app ${appId} at ${commit}: ${JSON.stringify((await builds(appId)).map((b) => [b.commit, b.status]))}\n${server.stderr().slice(-3000)}`);
    images.add(found.image);
    return found;
  }

  it("builds the pushed commit on a GitHub push signed with the secret, once for a push sent twice, and nothing for bad or missing signatures", async () => {
    const added = await runCli(["apps", "add", "web", "--repo", repo.url, "--ref", "main", "--dir", "app", "--json"], env);
    assert.equal(added.code, 0, describeRun(added));
    assert.equal((JSON.parse(added.stdout) as { ref: string }).ref, "main");

    const unsigned = await post(githubPush({ cloneUrl: repo.url, ref: "refs/heads/main", after: repo.commit, signature: null }));
    assert.deepEqual(unsigned, { status: 401, json: { error: "missing X-Hub-Signature-256" } });
    const forged = await post(githubPush({ cloneUrl: repo.url, ref: "refs/heads/main", after: repo.commit, secret: "not-the-secret" }));
    assert.deepEqual(forged, { status: 401, json: { error: "X-Hub-Signature-256 does not match the body signed with [hooks] secret" } });

    const c1 = await repo.commitFiles({ "app/name.txt": "github push\n" });
    const push = githubPush({ cloneUrl: repo.url, ref: "refs/heads/main", before: repo.commit, after: c1, secret: hookSecret });
    const [first, second] = await Promise.all([post(push), post(push)]);
    assert.equal(first.status, 202, JSON.stringify(first.json));
    assert.equal(second.status, 202, JSON.stringify(second.json));
    assert.deepEqual((first.json["builds"] as { app: string; commit: string }[]).map((b) => [b.app, b.commit]), [["web", c1]]);
    const build = await builtAt("web", c1);
    assert.equal(build.requester, "webhook:github");
    assert.equal(build.source?.ref, c1, "the pushed commit itself is built, not whatever the branch points to later");
    const all = await builds("web");
    assert.equal(all.filter((b) => b.commit === c1).length, 1, "one build for the push sent twice");
    assert.equal(all.filter((b) => b.commit === repo.commit).length, 0, "the refused pushes built nothing");
  });

  it("builds on a GitLab push with the right token and refuses a wrong or missing one", async () => {
    const c2 = await repo.commitFiles({ "app/name.txt": "gitlab push\n" });
    const wrong = await post(gitlabPush({ httpUrl: repo.url, ref: "refs/heads/main", after: c2, token: "hook-secret-e2e-5d1" }));
    assert.deepEqual(wrong, { status: 401, json: { error: "X-Gitlab-Token does not match [hooks] secret" } });
    const missing = await post(gitlabPush({ httpUrl: repo.url, ref: "refs/heads/main", after: c2, token: null }));
    assert.deepEqual(missing, { status: 401, json: { error: "missing X-Gitlab-Token" } });
    assert.equal((await builds("web")).filter((b) => b.commit === c2).length, 0);
    const good = await post(gitlabPush({ httpUrl: repo.url, ref: "refs/heads/main", after: c2, token: hookSecret }));
    assert.equal(good.status, 202, JSON.stringify(good.json));
    assert.equal((await builtAt("web", c2)).requester, "webhook:gitlab");
  });

  it("builds on a Gitea push signed with the secret; a push to a branch no app follows builds nothing", async () => {
    const c3 = await repo.commitFiles({ "app/name.txt": "gitea push\n" });
    const bad = await post(giteaPush({ cloneUrl: repo.url, ref: "refs/heads/main", after: c3, signature: "0".repeat(64) }));
    assert.deepEqual(bad, { status: 401, json: { error: "X-Gitea-Signature does not match the body signed with [hooks] secret" } });
    const good = await post(giteaPush({ cloneUrl: repo.url, ref: "refs/heads/main", after: c3, secret: hookSecret }));
    assert.equal(good.status, 202, JSON.stringify(good.json));
    assert.equal((await builtAt("web", c3)).requester, "webhook:gitea");
    const dev = await post(githubPush({ cloneUrl: repo.url, ref: "refs/heads/dev", after: c3, secret: hookSecret }));
    assert.equal(dev.status, 200);
    assert.deepEqual(dev.json["builds"], []);
    assert.equal(dev.json["message"], `no registered app follows ${repo.url} at refs/heads/dev`);
    const oversized = await post(githubPush({ cloneUrl: repo.url + "/".repeat(17_000), ref: "refs/heads/main", after: c3, secret: hookSecret }));
    assert.equal(oversized.status, 413);
    assert.match(String(oversized.json["error"]), /^webhook body of \d+ bytes is over \[hooks\] max_body_bytes \(16384\)$/);
  });

  it("builds on a Bitbucket Cloud repo:push signed with the secret and refuses a wrong or missing signature", async () => {
    const c4 = await repo.commitFiles({ "app/name.txt": "bitbucket push\n" });
    const missing = await post(bitbucketCloudPush({ htmlUrl: repo.url, branch: "main", hash: c4, signature: null }));
    assert.deepEqual(missing, { status: 401, json: { error: "missing X-Hub-Signature" } });
    const forged = await post(bitbucketCloudPush({ htmlUrl: repo.url, branch: "main", hash: c4, secret: "not-the-secret" }));
    assert.deepEqual(forged, { status: 401, json: { error: "X-Hub-Signature does not match the body signed with [hooks] secret" } });
    assert.equal((await builds("web")).filter((b) => b.commit === c4).length, 0, "refused pushes build nothing");
    const good = await post(bitbucketCloudPush({ htmlUrl: repo.url, branch: "main", hash: c4, secret: hookSecret }));
    assert.equal(good.status, 202, JSON.stringify(good.json));
    assert.deepEqual(good.json, { provider: "bitbucket", builds: [{ app: "web", ref: "refs/heads/main", commit: c4, started: true }] });
    const build = await builtAt("web", c4);
    assert.equal(build.requester, "webhook:bitbucket");
    assert.equal(build.source?.ref, c4);
  });

  it("polls an app with a poll interval and builds a new commit without any webhook", async () => {
    const added = await runCli(["apps", "add", "polled", "--repo", repo.url, "--ref", "main", "--dir", "app", "--poll", "10"], env);
    assert.equal(added.code, 0, describeRun(added));
    const head = await repo.git("rev-parse", "HEAD");
    assert.equal((await builtAt("polled", head)).requester, "poll");
    const c4 = await repo.commitFiles({ "app/name.txt": "found by polling\n" });
    const polled = await builtAt("polled", c4, 90_000);
    assert.equal(polled.requester, "poll");
    const removed = await runCli(["apps", "remove", "polled"], env);
    assert.equal(removed.code, 0, describeRun(removed));
  });

  it("lists and pins through the server's LifecycleService with the admin token, and refuses the read token", async () => {
    const web = await builds("web");
    const oldest = web[web.length - 1];
    assert.ok(oldest && web.length === 4, JSON.stringify(web.map((b) => [b.commit, b.requester])));
    const pin = await runCli(["builds", "pin", oldest.id], env);
    assert.equal(pin.code, 0, describeRun(pin));
    const dry = await runCli(["gc", "--app", "web", "--keep", "1", "--dry-run", "--json"], env);
    assert.equal(dry.code, 0, describeRun(dry));
    const json = JSON.parse(dry.stdout) as { dryRun: boolean; images: { image: string }[]; held: { image: string; reason: string }[] };
    assert.equal(json.dryRun, true);
    assert.deepEqual(json.images.map((i) => i.image), [web[2]?.image, web[1]?.image], "the unpinned images beyond the newest, oldest first");
    assert.deepEqual(json.held, [{ app: "web", image: oldest.image, reason: "pinned" }]);
    assert.equal((await metadata.getBuild({ id: oldest.id })).build?.pinned, true);
    const reader = await runCli(["gc", "--dry-run"], { ...env, BUILDPLANE_TOKEN: readToken });
    assert.equal(reader.code, 1, describeRun(reader));
    assert.equal(reader.stderr, "buildplane: LifecycleService.CollectGarbage needs scope admin, which the [security] read_token token does not carry\n");
  });
});

