import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { BuilderService } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { checkDigest, plainTarget } from "./fixtures/build-fixtures.js";
import { cliEnv, runCli, type CliRun } from "../helpers/buildplane-cli.js";
import { startNode, startServe, type TestNode } from "./fixtures/start-node.js";
import { removeTestImages } from "./fixtures/test-images.js";

const token = `tok-${randomUUID()}`;
/** What `build --server` presents to the main install (scope `build`); the node token does not carry it. */
const buildToken = `build-${randomUUID()}`;
const marker = `m${randomUUID().replaceAll("-", "")}`;
let registry: TestRegistry;
let nodes: TestNode[] = [];
let repo: TestGitRepo;
let dir: TempDir;
const madeImages: string[] = [];

/** Remembers an image to remove: the pulled reference and the node's local `cli-…:<tag>` name. */
const made = (reference: string): void => void madeImages.push(reference, reference.slice(reference.lastIndexOf("/") + 1));

before(async () => {
  dir = await tempDir("buildplane-main-");
  registry = await startRegistry();
  nodes = await Promise.all([startNode({ token }), startNode({ token })]);
  repo = await makeGitRepo({
    Containerfile: `FROM local/busybox:1\nCOPY hello.txt /hello.txt\nRUN echo built-${marker}\n`,
    "hello.txt": `hello ${marker}\n`,
  });
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await registry?.stop();
  await removeTestImages(madeImages);
  await repo?.remove();
  await dir?.remove();
});

/** The main install's config: delegate to both nodes, push to the test registry. */
async function mainConfig(sentToken: string, dataDir = "data"): Promise<string> {
  const file = join(dir.path, `main-${randomUUID()}.toml`);
  const toml = [
    "[builder]",
    `mode = ${JSON.stringify(`delegate:${nodes.map((n) => n.url).join(",")}`)}`,
    "",
    "[registry]",
    `url = ${JSON.stringify(registry.host)}`,
    'project = "e2e"',
    "insecure = true",
    "",
    "[security]",
    `build_token = ${JSON.stringify(buildToken)}`,
    "",
    "[system]",
    `data_dir = ${JSON.stringify(join(dir.path, dataDir))}`,
    `builder_auth_token = ${JSON.stringify(sentToken)}`,
  ].join("\n");
  await writeFile(file, `${toml}\n`, { mode: 0o600 });
  return file;
}

/** `buildplane build <repo> --json` on a main install that has no container engine to reach. */
const noEngine = (): NodeJS.ProcessEnv => cliEnv({ DOCKER_HOST: "unix:///nonexistent.sock" });

async function buildWithoutEngine(config: string, extra: readonly string[] = []): Promise<CliRun> {
  return runCli(["build", repo.url, "--app", "e2e", "--json", "--config", config, ...extra], noEngine());
}

const describe = (r: CliRun): string => `exit ${String(r.code)}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

test("a main install with no container engine gets the image built and pushed by a builder node, and it runs", async () => {
  const run = await buildWithoutEngine(await mainConfig(token));
  const last = run.events.at(-1);
  if (last?.["type"] === "ready") made(String(last["image"]));
  assert.equal(run.code, 0, describe(run));
  assert.equal(last?.["type"], "ready", describe(run));
  const image = String(last?.["image"]);
  assert.match(image, new RegExp(`^${registry.host.replaceAll(".", "\\.")}/e2e/cli-e2e:[0-9a-f]{16}$`));
  assert.equal(last?.["cached"], false);
  const started = run.events.filter((e) => e["type"] === "started");
  assert.ok(started.every((e) => e["image"] === image && e["mode"] === "delegate"), describe(run));
  const named = started.flatMap((e) => (e["node"] === undefined ? [] : [e["node"]]));
  assert.equal(named.length, 1, `one started event names the node: ${describe(run)}`);
  assert.ok(nodes.some((n) => n.url === named[0]), `${String(named[0])} is not a node of the pool`);
  assert.ok(run.events.some((e) => e["type"] === "log" && String(e["text"]).trim() === `built-${marker}`), "the node's build log reaches the caller");
  assert.equal(last?.["digest"], await checkDigest(image, { ...plainTarget(registry.host), project: "e2e" }, AbortSignal.timeout(5000)));
  await runCommand("docker", ["pull", "--quiet", image]);
  const out = await runCommand("docker", ["run", "--rm", image, "cat", "/hello.txt"]);
  assert.equal(out.stdout, `hello ${marker}\n`);
});

test("a main install with the wrong token fails with unauthenticated and prints no token", async () => {
  const wrong = `wrong-${randomUUID()}`;
  const run = await buildWithoutEngine(await mainConfig(wrong), ["--force"]);
  const last = run.events.at(-1);
  assert.equal(run.code, 1, describe(run));
  assert.equal(last?.["type"], "failed", describe(run));
  assert.equal(last?.["code"], "unauthenticated");
  assert.match(String(last?.["message"]), /builder node http:\/\/127\.0\.0\.1:\d+: .*builder_auth_token/);
  for (const text of [run.stdout, run.stderr, ...nodes.map((n) => n.output())]) {
    assert.equal(text.includes(wrong), false);
    assert.equal(text.includes(token), false);
  }
});

test("a main install run with buildplane serve and no container engine delegates the build of build --server", async () => {
  const config = await mainConfig(token, "served");
  // The repository is a server folder: allow it, as an operator would with [source] local_roots.
  const main = await startServe(config, { ...noEngine(), BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path });
  try {
    const run = await runCli(["build", repo.url, "--app", "e2e-served", "--json", "--config", config, "--server", main.url], { ...noEngine(), BUILDPLANE_TOKEN: buildToken });
    const last = run.events.at(-1);
    if (last?.["type"] === "ready") made(String(last["image"]));
    assert.equal(run.code, 0, describe(run));
    assert.equal(last?.["type"], "ready", describe(run));
    assert.equal(last?.["cached"], false);
    const image = String(last?.["image"]);
    assert.match(image, /\/e2e\/cli-e2e-served:[0-9a-f]{16}$/);
    const named = run.events.flatMap((e) => (e["type"] === "started" && e["node"] !== undefined ? [e["node"]] : []));
    assert.equal(named.length, 1, describe(run));
    assert.ok(nodes.some((n) => n.url === named[0]), `${String(named[0])} is not a node of the pool`);
    assert.equal(last?.["digest"], await checkDigest(image, { ...plainTarget(registry.host), project: "e2e" }, AbortSignal.timeout(5000)));
  } finally {
    await main.stop();
  }
  assert.equal(main.output().includes(token), false, "the token is in the main install's output");
  assert.equal(main.output().includes(buildToken), false, "the build token is in the main install's output");
});

test("a main install's GetStatus lists the builder nodes of its pool with their health and capacity", async () => {
  const config = await mainConfig(token, "status");
  const main = await startServe(config, noEngine());
  try {
    const builder = createClient(
      BuilderService,
      createGrpcTransport({ baseUrl: main.url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))] }),
    );
    let status = await builder.getStatus({});
    for (let i = 0; i < 100 && !(status.nodes.length === 2 && status.nodes.every((n) => n.healthy)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await builder.getStatus({});
    }
    assert.equal(status.mode, "delegate");
    assert.equal(status.healthy, true);
    assert.deepEqual(status.nodes.map((n) => n.url).sort(), nodes.map((n) => n.url).sort());
    for (const n of status.nodes) {
      assert.equal(n.healthy, true, n.reason);
      assert.equal(n.capacity, 2);
      assert.equal(n.reason, "");
    }
  } finally {
    await main.stop();
  }
});
