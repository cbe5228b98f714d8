import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { makeAppRepo, removeImagesOfBuilds } from "../e2e/app-fixture.js";
import { cliEnv, runCli, type CliRun } from "../helpers/buildplane-cli.js";
import { freePort } from "../helpers/free-port.js";
import { startTcpForwarder, type TcpForwarder } from "../helpers/tcp-forwarder.js";
import type { TestGitRepo } from "../helpers/make-git-repo.js";
import {
  buildImage,
  createNetwork,
  docker,
  dockerSocketGid,
  exec,
  imageTag,
  runName,
  startContainer,
  startGitServer,
  waitHealthy,
  type Container,
  type GitServer,
} from "./image-fixture.js";

// Every role and topology from the one image `npm run image` builds, on the
// real Docker engine: the CLI and all-in-one server, the six services in
// separate containers on a user-defined network, builder nodes behind a main
// install, and deploy/compose.yaml. Containers reach the host's registry,
// Postgres and git server through the network's gateway; builds run on the
// host's engine through its socket.

const run = runName();
const token = `tok-${run}`;
const servicesToken = `svc-${run}`;
const nodeToken = `node-${run}`;
const cleanups: Array<() => Promise<unknown>> = [];
let gateway: string;
let gid: string;
let git: GitServer;
let registry: TcpForwarder;
let repo: TestGitRepo & { readonly nonce: string };
let registryEnv: Record<string, string>;
let gitUrl: string;

/** The last JSON event of a `build --json` run, which must be `ready`. */
function ready(r: CliRun | { code: number | string; stdout: string; stderr: string }): { ref: string; cached: boolean; buildId: string } {
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("{"));
  const last = JSON.parse(lines.at(-1) ?? "{}") as Record<string, unknown>;
  assert.equal(last["type"], "ready", `the build ends ready:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  assert.equal(r.code, 0);
  assert.equal(typeof last["image"], "string", "the ready event names the image");
  const built = { ref: String(last["image"]), cached: last["cached"] === true, buildId: String(last["buildId"] ?? "") };
  // Every image the build made on the host engine, under any name, goes after the run.
  if (!built.cached) cleanups.push(() => removeImagesOfBuilds("docker", [built.buildId]));
  return built;
}

/** The tags the shared registry holds for `ref` (`<gateway>:<port>/<run>/<name>:<tag>`), read on its loopback address. */
async function registryTags(ref: string): Promise<string[]> {
  const path = ref.slice(ref.indexOf("/") + 1, ref.lastIndexOf(":"));
  const res = await fetch(`http://127.0.0.1:5000/v2/${path}/tags/list`);
  if (res.status === 404) return [];
  return ((await res.json()) as { tags?: string[] }).tags ?? [];
}

/** `buildplane build <repo> --dir app --arg GREETING=<greeting> --json --server <url>` from this machine's CLI. */
function buildThrough(url: string, greeting: string): Promise<CliRun> {
  return runCli(["build", gitUrl, "--dir", "app", "--arg", `GREETING=${greeting}`, "--json", "--server", url], cliEnv({ BUILDPLANE_TOKEN: token }), 300_000);
}

async function startOwned(o: Parameters<typeof startContainer>[0]): Promise<Container> {
  const c = await startContainer(o);
  cleanups.push(() => c.remove());
  return c;
}

describe("the buildplane image", { timeout: 60 * 60_000 }, () => {
  let built: { seconds: number };

  before(async () => {
    built = await buildImage();
    const network = await createNetwork(run);
    cleanups.push(() => network.remove());
    gateway = network.gateway;
    gid = await dockerSocketGid();
    git = await startGitServer(gateway);
    cleanups.push(() => git.stop());
    repo = await makeAppRepo();
    cleanups.push(() => repo.remove());
    await git.add("app", repo.path);
    gitUrl = git.url("app");
    // Containers reach the gateway; the shared registry and Postgres listen on loopback only.
    registry = await startTcpForwarder(5000, { host: gateway });
    cleanups.push(() => registry.close());
    registryEnv = {
      BUILDPLANE_REGISTRY_URL: `${gateway}:${registry.port}`,
      BUILDPLANE_REGISTRY_PROJECT: run,
      BUILDPLANE_REGISTRY_INSECURE: "true",
    };
  }, { timeout: 50 * 60_000 });

  after(async () => {
    // Containers first, then the network and the servers they used.
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    const left = await exec("docker", ["ps", "-aq", "--filter", `name=${run}`]);
    for (const id of left.stdout.split("\n").filter(Boolean)) await exec("docker", ["rm", "-f", "-v", id]);
  });

  test("is built by npm run image: tini as PID 1's entry point, a non-root user, a health check through buildplane health, no tests and no dev dependencies", { timeout: 120_000 }, async (t) => {
    const inspect = JSON.parse(await docker(["image", "inspect", imageTag])) as Array<{ Size: number; Config: { User: string; Entrypoint: string[]; Cmd: string[]; Healthcheck?: { Test: string[] } } }>;
    const config = inspect[0]?.Config;
    assert.ok(config);
    assert.equal(config.User, "10001:10001");
    assert.deepEqual(config.Entrypoint, ["tini", "--", "buildplane"]);
    assert.deepEqual(config.Cmd, ["serve"]);
    assert.deepEqual(config.Healthcheck?.Test.slice(0, 3), ["CMD", "buildplane", "health"]);
    const listing = await docker(["run", "--rm", "--entrypoint", "sh", imageTag, "-c",
      "ls /app; for p in typescript tsx @bufbuild/buf kubernetes-models better-sqlite3; do test -e /app/node_modules/$p && echo has:$p; done; for c in git ssh tini; do command -v $c; done; id -u"]);
    assert.deepEqual(listing.split("\n"), ["bin", "dist", "node_modules", "package-lock.json", "package.json", "has:better-sqlite3", "/usr/bin/git", "/usr/bin/ssh", "/usr/bin/tini", "10001"]);
    t.diagnostic(`image ${imageTag}: ${Math.round((inspect[0]?.Size ?? 0) / 1e6)} MB, npm run image took ${built.seconds.toFixed(0)} s in this run`);
  });

  describe("all-in-one", () => {
    let cliRef: string;

    test("buildplane build runs in a container and pushes to the registry", { timeout: 300_000 }, async () => {
      const r = await exec("docker", [
        "run", "--rm", "--name", `${run}-cli`, "--network", run, "--label", "buildplane-test=image",
        "-v", "/var/run/docker.sock:/var/run/docker.sock", "--group-add", gid,
        "-e", "BUILDPLANE_SYSTEM_CONTAINER_COMMAND=docker",
        ...Object.entries(registryEnv).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
        imageTag, "build", gitUrl, "--dir", "app", "--arg", "GREETING=cli", "--json",
      ], { timeoutMs: 280_000 });
      const out = ready(r);
      assert.equal(out.cached, false);
      assert.ok(out.ref.startsWith(`${gateway}:${registry.port}/${run}/cli-`), out.ref);
      assert.deepEqual(await registryTags(out.ref), [out.ref.slice(out.ref.lastIndexOf(":") + 1)]);
      cliRef = out.ref;
    });

    test("serve becomes healthy, answers buildplane health from another container, runs builds and finds the CLI's image by name", { timeout: 400_000 }, async () => {
      const aio = await startOwned({
        name: `${run}-aio`, network: run, engine: gid, publish: true,
        env: { BUILDPLANE_SECURITY_BUILD_TOKEN: token, BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker", ...registryEnv },
      });
      await waitHealthy(aio.name);
      const probe = await exec("docker", ["run", "--rm", "--network", run, imageTag, "health", "--server", `http://${aio.name}:25222`]);
      assert.deepEqual({ code: probe.code, stdout: probe.stdout }, { code: 0, stdout: `http://${aio.name}:25222: SERVING\n` });
      const pid1 = await docker(["exec", aio.name, "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline; echo; id -u"]);
      assert.match(pid1, /^tini -- buildplane serve \n10001$/);

      const same = ready(await buildThrough(aio.hostUrl, "cli"));
      assert.deepEqual([same.ref, same.cached], [cliRef, true], "same inputs, same name: the server finds what the CLI pushed");
      const fresh = ready(await buildThrough(aio.hostUrl, "server"));
      assert.equal(fresh.cached, false);
      assert.ok(fresh.ref.startsWith(`${gateway}:${registry.port}/${run}/cli-`), fresh.ref);
      assert.notEqual(fresh.ref, cliRef);
      assert.equal((await registryTags(fresh.ref)).length, 2, "both builds of the app are in the registry");
    });
  });

  test("the six services in separate containers on a user-defined network carry a build end to end, metadata in Postgres", { timeout: 600_000 }, async () => {
    const database = `image_${run.slice("image-".length)}`;
    const psql = (sql: string, db = "postgres"): Promise<string> =>
      exec("psql", ["-h", "127.0.0.1", "-U", "postgres", "-w", "-d", db, "-tAc", sql]).then((r) => {
        if (r.code !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
        return r.stdout.trim();
      });
    await psql(`create database ${database}`);
    cleanups.push(() => psql(`drop database if exists ${database} with (force)`));
    const postgres = await startTcpForwarder(5432, { host: gateway });
    cleanups.push(() => postgres.close());

    const names = ["config", "metadata", "source", "resolver", "builder", "lifecycle"] as const;
    const env: Record<string, string> = {
      BUILDPLANE_SECURITY_BUILD_TOKEN: token,
      BUILDPLANE_SERVICES_TOKEN: servicesToken,
      BUILDPLANE_METADATA_DB_CONNECTION: `postgres://postgres@${gateway}:${postgres.port}/${database}`,
      ...registryEnv,
    };
    for (const name of names) env[`BUILDPLANE_SERVICES_${name.toUpperCase()}_URL`] = `http://${run}-${name}:25222`;
    const containers: Record<string, Container> = {};
    for (const name of names) {
      containers[name] = await startOwned({
        name: `${run}-${name}`, network: run, args: ["serve", "--services", name],
        env: name === "builder" ? { ...env, BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker" } : env,
        ...(name === "builder" ? { engine: gid } : {}),
        publish: name === "resolver",
      });
    }
    for (const name of names) await waitHealthy(`${run}-${name}`);
    const resolver = containers["resolver"];
    assert.ok(resolver);

    const out = ready(await buildThrough(resolver.hostUrl, "split"));
    assert.equal(out.cached, false);
    assert.equal((await registryTags(out.ref)).includes(out.ref.slice(out.ref.lastIndexOf(":") + 1)), true, "the builder container pushed it");
    assert.equal(await psql("select status, image from builds", database), `succeeded|${out.ref}`, "the metadata container recorded it in Postgres");
    const mirrors = await docker(["exec", `${run}-source`, "sh", "-c", "ls /data/git"]);
    assert.ok(mirrors.split("\n").length > 0 && mirrors !== "", "the source container keeps the git mirror");
    const builderLog = await exec("docker", ["logs", `${run}-builder`]);
    assert.equal(`${builderLog.stdout}${builderLog.stderr}`.includes(token), false, "no token in the builder's log");
  });

  test("builder nodes take the builds a main install without an engine delegates to them", { timeout: 600_000 }, async () => {
    const nodes = ["node1", "node2"].map((n) => `${run}-${n}`);
    for (const name of nodes) {
      await startOwned({
        name, network: run, engine: gid, args: ["serve", "--services", "builder"],
        env: { BUILDPLANE_SECURITY_ADMIN_OVER_TCP: "true", BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: nodeToken, BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker" },
      });
    }
    const main = await startOwned({
      name: `${run}-main`, network: run, publish: true,
      env: {
        BUILDPLANE_BUILDER_MODE: `delegate:${nodes.map((n) => `http://${n}:25222`).join(",")}`,
        BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: nodeToken,
        BUILDPLANE_SECURITY_BUILD_TOKEN: token,
        ...registryEnv,
      },
    });
    for (const name of [...nodes, main.name]) await waitHealthy(name);
    assert.equal((await exec("docker", ["exec", main.name, "test", "-e", "/var/run/docker.sock"])).code, 1, "the main install has no engine");

    const out = ready(await buildThrough(main.hostUrl, "nodes"));
    assert.equal(out.cached, false);
    assert.ok((await registryTags(out.ref)).length > 0, "a node pushed it");
    const show = await runCli(["builds", "show", out.buildId, "--json", "--server", main.hostUrl], cliEnv({ BUILDPLANE_TOKEN: token }));
    assert.equal(show.code, 0, show.stderr);
    const record = JSON.parse(show.stdout) as { status: string; mode: string; builderNode: string };
    assert.equal(record.status, "succeeded");
    assert.ok(nodes.some((n) => record.builderNode.includes(n)), `the record names the node: ${JSON.stringify(record)}`);
  });

  test("deploy/compose.yaml's split profile comes up from the local image and carries a build", { timeout: 600_000 }, async () => {
    const project = `${run.replace("-", "")}c`;
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BUILDPLANE_IMAGE: imageTag,
      BUILDPLANE_TOKEN: token,
      BUILDPLANE_SERVICES_TOKEN: servicesToken,
      BUILDPLANE_PORT: String(port),
      DOCKER_GID: gid,
    };
    const compose = (...args: string[]): ReturnType<typeof exec> =>
      exec("docker-compose", ["-p", project, "-f", "deploy/compose.yaml", "--profile", "split", ...args], { env, timeoutMs: 300_000 });
    cleanups.push(() => compose("down", "-v", "--remove-orphans", "--timeout", "10"));
    const up = await compose("up", "-d", "--no-build");
    assert.equal(up.code, 0, up.stderr);
    const ids = (await compose("ps", "-q")).stdout.split("\n").filter(Boolean);
    assert.equal(ids.length, 6, "one container per service");
    for (const id of ids) await waitHealthy(id);

    const out = ready(await buildThrough(`http://127.0.0.1:${port}`, "compose"));
    assert.equal(out.cached, false);
    assert.match(out.ref, /^cli-[a-z0-9-]+:[0-9a-f]{16}$/, "no registry: the image stays on the engine");
    await docker(["image", "inspect", out.ref]);
  });
});
