import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCommand } from "../helpers/run-command.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { imageExists, makeAppRepo, removeImages } from "../e2e/app-fixture.js";
import { eventually } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, runCli, startCli, type CliResult } from "../e2e/cli-process.js";
import { startServe } from "../rpc/serve-process.js";

const timeout = 240_000;

/** A Containerfile whose build takes a while, so a build can be running during a collection. */
const slowContainerfile = "FROM local/busybox:1\nCOPY name.txt /name.txt\nRUN sleep 20 && cp /name.txt /out.txt\n";
const quickContainerfile = "FROM local/busybox:1\nCOPY name.txt /name.txt\nRUN cp /name.txt /out.txt\n";

interface Install {
  readonly dataDir: string;
  readonly config: string;
  readonly env: NodeJS.ProcessEnv;
}

interface Built {
  readonly commit: string;
  readonly image: string;
  readonly buildId: string;
}

/**
 * Garbage collection against real registries and the local Docker engine:
 * several commits of several apps are built and pushed, then collected with
 * `--keep 1`. What goes is gone from the registry (manifest deleted by
 * digest) and the engine; a pinned image and the image of a build running
 * during the collection stay; records stay, marked collected, and asking for
 * a collected image builds it again. A registry that refuses deletes, and an
 * image under a buildplane name without buildplane's labels, are reported
 * and left alone.
 */
describe("garbage collection of built images", { timeout }, () => {
  let dir: TempDir;
  let deleting: TestRegistry;
  let refusing: TestRegistry;
  let web: Awaited<ReturnType<typeof makeAppRepo>>;
  let api: TestGitRepo;
  let a: Install;
  let b: Install;
  const webBuilds: Built[] = [];
  const apiBuilds: Built[] = [];
  const soloBuilds: Built[] = [];
  const localNames = new Set<string>();

  async function install(name: string, registry: TestRegistry): Promise<Install> {
    const dataDir = join(dir.path, name);
    await mkdir(dataDir, { recursive: true });
    const config = join(dataDir, "buildplane.toml");
    await writeFile(config, `[registry]\nurl = "${registry.host}"\ninsecure = true\n`);
    return { dataDir, config, env: cliEnv(dataDir) };
  }

  async function build(at: Install, repo: TestGitRepo, app: string, commit: string, extra: string[] = []): Promise<Built & { run: CliResult }> {
    const run = await runCli(["build", repo.url, "--dir", "app", "--app", app, "--ref", commit, "--json", "--config", at.config, ...extra], at.env);
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.last?.type, "ready", describeRun(run));
    const image = String(run.last["image"]);
    localNames.add(image.slice(image.lastIndexOf("/") + 1));
    return { commit, image, buildId: String(run.last["buildId"]), run };
  }

  async function gc(at: Install, args: string[]): Promise<{ run: CliResult; json: { dryRun: boolean; images: { app: string; image: string; engineDeleted: boolean; registryDeleted: boolean; error: string }[]; held: { app: string; image: string; reason: string }[] } }> {
    const run = await runCli(["gc", "--json", "--config", at.config, ...args], at.env);
    return { run, json: JSON.parse(run.stdout) as Awaited<ReturnType<typeof gc>>["json"] };
  }

  /** Whether the registry still serves the reference's manifest. */
  async function inRegistry(registry: TestRegistry, reference: string): Promise<boolean> {
    const rest = reference.slice(registry.host.length + 1);
    const colon = rest.lastIndexOf(":");
    const res = await fetch(`${registry.url}/v2/${rest.slice(0, colon)}/manifests/${rest.slice(colon + 1)}`, {
      method: "HEAD",
      headers: { accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json" },
    });
    if (res.status !== 200 && res.status !== 404) assert.fail(`HEAD ${reference} answered ${res.status}`);
    return res.status === 200;
  }

  const local = (reference: string): string => reference.slice(reference.lastIndexOf("/") + 1);

  before(async () => {
    dir = await tempDir("buildplane-gc-");
    [deleting, refusing, web, api] = await Promise.all([
      // The test helper's registries run with deletes enabled (storage.delete.enabled, i.e. REGISTRY_STORAGE_DELETE_ENABLED=true).
      startRegistry(),
      startRegistry({ extraConfig: { storage: { filesystem: { rootdirectory: join(dir.path, "refusing-data") }, delete: { enabled: false } } } }),
      makeAppRepo(),
      makeGitRepo({ "app/Containerfile": slowContainerfile, "app/name.txt": `api ${Math.random()}\n` }),
    ]);
    [a, b] = await Promise.all([install("a", deleting), install("b", refusing)]);
    // Three chains at once: web (3 commits) and api (a slow commit, then a quick one) to the deleting registry, solo (3 commits) to the refusing one.
    const webCommits = [web.commit, await web.commitFiles({ "app/name.txt": "web two\n" }), await web.commitFiles({ "app/name.txt": "web three\n" })];
    const apiCommits = [api.commit, await api.commitFiles({ "app/Containerfile": quickContainerfile, "app/name.txt": `api two ${Math.random()}\n` })];
    await Promise.all([
      (async () => { for (const c of webCommits) webBuilds.push(await build(a, web, "gc-web", c)); })(),
      (async () => { for (const c of apiCommits) apiBuilds.push(await build(a, api, "gc-api", c)); })(),
      (async () => { for (const c of webCommits) soloBuilds.push(await build(b, web, "gc-solo", c)); })(),
    ]);
  });
  after(async () => {
    await removeImages("docker", localNames);
    await Promise.all([deleting?.stop(), refusing?.stop(), web?.remove(), api?.remove()]);
    await dir?.remove();
  });

  it("lists with --dry-run what would go and deletes nothing", async () => {
    const { run, json } = await gc(a, ["--keep", "1", "--dry-run"]);
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(json.dryRun, true);
    assert.deepEqual(json.images.map((i) => i.image), [apiBuilds[0]?.image, webBuilds[0]?.image, webBuilds[1]?.image]);
    for (const built of [...webBuilds, ...apiBuilds]) {
      assert.equal(await inRegistry(deleting, built.image), true, `${built.image} is still in the registry`);
      assert.equal(await imageExists("docker", local(built.image)), true, `${built.image} is still in the engine`);
    }
  });

  it("keeps the newest, pinned and running images, deletes the rest from registry and engine, and marks their records collected", async () => {
    const [w1, w2, w3] = webBuilds;
    const [a1, a2] = apiBuilds;
    assert.ok(w1 && w2 && w3 && a1 && a2);
    const pin = await runCli(["builds", "pin", w1.buildId, "--config", a.config], a.env);
    assert.equal(pin.code, 0, describeRun(pin));
    assert.equal(pin.stdout, `build ${w1.buildId} pinned: garbage collection keeps its image\n`);

    // Rebuild a1's image while collecting: its build (and lease) runs, so it must stay.
    await runCommand("docker", ["rmi", local(a1.image)]);
    const rebuild = startCli(["build", api.url, "--dir", "app", "--app", "gc-api", "--ref", a1.commit, "--force", "--json", "--config", a.config], a.env);
    await rebuild.waitFor((e) => e.type === "log");

    const { run, json } = await gc(a, ["--keep", "1"]);
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(json.images.map((i) => [i.image, i.engineDeleted, i.registryDeleted, i.error]), [[w2.image, true, true, ""]]);
    assert.deepEqual(json.held.map((h) => [h.image, h.reason]), [[a1.image, "running"], [w1.image, "pinned"]]);

    assert.equal(await inRegistry(deleting, w2.image), false, "the collected manifest is deleted");
    assert.equal(await imageExists("docker", local(w2.image)), false, "the collected image left the engine");
    for (const kept of [w1, w3, a2]) {
      assert.equal(await inRegistry(deleting, kept.image), true, `${kept.image} stays in the registry`);
      assert.equal(await imageExists("docker", local(kept.image)), true, `${kept.image} stays in the engine`);
    }
    assert.equal(await inRegistry(deleting, a1.image), true, "the image being rebuilt stays in the registry");

    const shown = await runCli(["builds", "show", w2.buildId, "--json", "--config", a.config], a.env);
    assert.equal(shown.code, 0, describeRun(shown));
    const record = JSON.parse(shown.stdout) as { status: string; collectedAt: string | null; image: string };
    assert.equal(record.status, "succeeded", "the record stays");
    assert.match(String(record.collectedAt), /^\d{4}-\d\d-\d\dT/);

    const rebuilt = await rebuild.done;
    assert.equal(rebuilt.code, 0, describeRun(rebuilt));
    assert.equal(rebuilt.last?.type, "ready");
    assert.equal(rebuilt.last["image"], a1.image);
  });

  it("builds a collected image again when it is asked for", async () => {
    const w2 = webBuilds[1];
    assert.ok(w2);
    const again = await build(a, web, "gc-web", w2.commit);
    assert.equal(again.image, w2.image);
    assert.equal(again.run.last?.["cached"], false, "a collected image is built, not answered from a cache");
    assert.notEqual(again.buildId, w2.buildId);
    assert.equal(await inRegistry(deleting, w2.image), true);
  });

  it("reports a registry that refuses deletes and an image without buildplane's labels, deletes neither and marks nothing", async () => {
    const [s1, s2] = soloBuilds;
    assert.ok(s1 && s2);
    // Under s1's name the engine now holds an image buildplane did not build.
    await runCommand("docker", ["rmi", local(s1.image)]);
    await runCommand("docker", ["tag", "local/busybox:1", local(s1.image)]);
    const { run, json } = await gc(b, ["--keep", "1"]);
    assert.equal(run.code, 1, describeRun(run));
    const byImage = new Map(json.images.map((i) => [i.image, i]));
    assert.match(byImage.get(s1.image)?.error ?? "", new RegExp(`^engine image "${local(s1.image).replace(/[.]/g, "\\.")}" has no buildplane\\.image-key label of [0-9a-f]+: not built by buildplane, left alone$`));
    assert.match(byImage.get(s2.image)?.error ?? "", /^registry: .*DELETE \/v2\/.+\/manifests\/sha256:[0-9a-f]{64} answered 405: the registry does not allow deletes$/);
    assert.equal(await imageExists("docker", local(s1.image)), true, "the foreign image is left alone");
    assert.equal(await inRegistry(refusing, s1.image), true);
    assert.equal(await inRegistry(refusing, s2.image), true);
    const list = await runCli(["builds", "list", "--json", "--app", "gc-solo", "--config", b.config], b.env);
    assert.deepEqual((JSON.parse(list.stdout) as { collectedAt: string | null }[]).map((r) => r.collectedAt), [null, null, null], "nothing is marked collected");
  });

  it("collects on its own every [gc] interval_secs on a server", async (t) => {
    const [, , w3] = webBuilds;
    const [, a2] = apiBuilds;
    assert.ok(w3 && a2);
    // Now the newest are the rebuilt w2 and a1; w1 is pinned: the schedule deletes w3 and a2.
    const server = await startServe(["--config", a.config], { ...a.env, BUILDPLANE_GC_INTERVAL_SECS: "3", BUILDPLANE_GC_KEEP: "1" });
    t.after(() => server.kill());
    const collected = await eventually(async () => !(await inRegistry(deleting, w3.image)) && !(await inRegistry(deleting, a2.image)), 60_000);
    assert.ok(collected, `the scheduled collection did not delete ${w3.image} and ${a2.image}:\n${server.stderr().slice(-2000)}`);
    assert.equal(await imageExists("docker", local(w3.image)), false);
    assert.equal(await inRegistry(deleting, webBuilds[0]?.image ?? ""), true, "the pinned image stays");
    assert.match(server.stderr(), /scheduled garbage collection/);
  });
});

