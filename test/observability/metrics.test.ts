import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { cliEnv, repoRoot, runCli, type CliRun } from "../helpers/buildplane-cli.js";
import { cliPath } from "../helpers/ensure-built.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { startServe, type TestNode } from "../delegate/fixtures/start-node.js";
import { removeTestImages } from "../delegate/fixtures/test-images.js";
import { removeImagesOfBuilds } from "../e2e/app-fixture.js";
import { startFlakyProxy, type FlakyProxy } from "./fixtures/flaky-registry-proxy.js";
import { parseExposition, type Exposition } from "./fixtures/metrics-text.js";
import { startPrometheus, type TestPrometheus } from "./fixtures/prometheus-server.js";

/**
 * One `buildplane serve` (all services, command mode, a registry behind a
 * proxy that answers 503 to the first manifest PUT), three real builds
 * through `buildplane build --server`, then `/metrics` read directly,
 * checked by `promtool` and scraped by a real Prometheus.
 */

const readToken = `read-${randomUUID()}`;
const buildToken = `build-${randomUUID()}`;
const marker = `m${randomUUID().replaceAll("-", "")}`;
let dir: TempDir;
let registry: TestRegistry;
let proxy: FlakyProxy;
let repo: TestGitRepo;
let server: TestNode;
let prometheus: TestPrometheus;
const builds: CliRun[] = [];
const madeImages: string[] = [];
/** Builds whose images (any name, found by their build-id label) go after the run. */
const madeBuilds: string[] = [];
let text = "";
let metrics: Exposition;

const describe = (r: CliRun): string => `exit ${String(r.code)}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

async function scrape(token: string | undefined): Promise<Response> {
  return fetch(`${server.url}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
}

/** Waits until `check` passes on a fresh Prometheus query result, or fails with the last value seen. */
async function eventually<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 60_000, show: (v: T) => string = (v) => JSON.stringify(v)): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (check(last)) return last;
    if (Date.now() > deadline) assert.fail(`${what}: last value ${show(last)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

before(async () => {
  dir = await tempDir("buildplane-metrics-");
  registry = await startRegistry();
  proxy = await startFlakyProxy(registry.host, (method, path) => method === "PUT" && path.includes("/manifests/"));
  repo = await makeGitRepo({
    Containerfile: `FROM local/busybox:1\nCOPY hello.txt /hello.txt\nRUN echo built-${marker}\n`,
    "hello.txt": `hello ${marker}\n`,
    "bad/Containerfile": `FROM local/busybox:1\nRUN echo failing-${marker} && false\n`,
    "slow/Containerfile": `FROM local/busybox:1\nRUN echo slow-${marker} && sleep 120\n`,
  });
  const config = join(dir.path, "buildplane.toml");
  const toml = [
    "[http]",
    'host = "127.0.0.1"',
    "port = 0",
    "",
    "[system]",
    `data_dir = ${JSON.stringify(join(dir.path, "data"))}`,
    'container_command = "docker"',
    "",
    "[registry]",
    `url = ${JSON.stringify(proxy.host)}`,
    'project = "obs"',
    "insecure = true",
    "",
    "[security]",
    `read_token = ${JSON.stringify(readToken)}`,
    `build_token = ${JSON.stringify(buildToken)}`,
    "",
    "[source]",
    `local_roots = [${JSON.stringify(dirname(repo.path))}]`,
  ].join("\n");
  await writeFile(config, `${toml}\n`, { mode: 0o600 });
  server = await startServe(config, cliEnv());
  const tokenFile = join(dir.path, "read-token");
  await writeFile(tokenFile, readToken, { mode: 0o600 });
  prometheus = await startPrometheus(`127.0.0.1:${server.port}`, tokenFile);

  const env = cliEnv({ BUILDPLANE_TOKEN: buildToken });
  const build = (extra: readonly string[]): Promise<CliRun> => runCli(["build", repo.url, "--server", server.url, "--app", "obs", "--json", ...extra], env, 240_000);
  builds.push(await build([])); // built and pushed (a missing image)
  builds.push(await build([])); // the same inputs: cached
  builds.push(await build(["--dir", "bad"])); // RUN fails
  // A build whose caller leaves (^C) while it runs: canceled.
  const slow = spawn(process.execPath, [cliPath, "build", repo.url, "--server", server.url, "--app", "obs", "--json", "--dir", "slow"], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "ignore"] });
  const slowExited = new Promise<void>((resolve) => slow.once("close", () => resolve()));
  // Its RUN step printed its line: the context is in and the engine is building.
  let slowOut = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the slow build did not reach its RUN step: ${slowOut}`)), 120_000);
    slow.stdout.on("data", (b: Buffer) => {
      slowOut += b.toString();
      if (slowOut.includes(`slow-${marker}`)) clearTimeout(timer), resolve();
    });
    void slowExited.then(() => reject(new Error(`the slow build ended early: ${slowOut}`)));
  });
  const current = async (): Promise<Exposition> => parseExposition(await (await scrape(readToken)).text());
  const state = (m: Exposition): string =>
    m.samples.filter((x) => /^buildplane_(builds_total|builds_running|ensure_image_requests_total)$|^grpc_server_handled_total$/.test(x.name)).map((x) => `${x.name}${JSON.stringify(x.labels)} ${x.value}`).join("\n");
  assert.equal((await current()).sum("buildplane_builds_running"), 1);
  slow.kill("SIGINT");
  await slowExited;
  await eventually(
    "the slow build canceled",
    current,
    (m) => m.sum("buildplane_builds_total", { result: "canceled" }) === 1 && m.sum("buildplane_ensure_image_requests_total", { result: "canceled" }) === 1 && m.sum("buildplane_builds_running") === 0,
    120_000,
    state,
  );
  for (const b of builds) {
    const ready = b.events.find((e) => e["type"] === "ready");
    if (typeof ready?.["image"] === "string") madeImages.push(ready["image"], ready["image"].slice(ready["image"].lastIndexOf("/") + 1));
    if (typeof ready?.["buildId"] === "string") madeBuilds.push(ready["buildId"]);
  }
  const res = await scrape(readToken);
  text = await res.text();
  metrics = parseExposition(text);
});

after(async () => {
  await prometheus?.stop();
  await server?.stop();
  await proxy?.stop();
  await registry?.stop();
  await removeTestImages(madeImages);
  await removeImagesOfBuilds("docker", madeBuilds);
  await repo?.remove();
  await dir?.remove();
});

test("the three builds end as expected: built, cached, failed", { timeout: 600_000 }, () => {
  const [built, cached, failed] = builds as [CliRun, CliRun, CliRun];
  assert.equal(built.code, 0, describe(built));
  assert.equal(built.events.at(-1)?.["cached"], false, describe(built));
  assert.equal(cached.code, 0, describe(cached));
  assert.equal(cached.events.at(-1)?.["cached"], true, describe(cached));
  assert.equal(failed.code, 1, describe(failed));
  assert.equal(failed.events.at(-1)?.["type"], "failed", describe(failed));
  assert.deepEqual(proxy.failed.length, 1, "the proxy answered 503 to one manifest PUT");
});

test("GET /metrics answers unauthenticated without a token and the exposition with the read token", { timeout: 60_000 }, async () => {
  const anonymous = await scrape(undefined);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  const read = await scrape(readToken);
  assert.equal(read.status, 200);
  assert.match(read.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  assert.match(await read.text(), /^# HELP /m);
});

test("promtool check metrics accepts the exposition", { timeout: 60_000 }, async () => {
  // promtool prints lint problems and exits non-zero on any of them.
  const checked = await runCommand("promtool", ["check", "metrics"], { input: text }).catch((err: unknown) => assert.fail(`promtool refused /metrics: ${String(err)}`));
  assert.equal(checked.stdout.trim(), "");
});

test("EnsureImage requests are counted by result and cached, the caller that left as canceled", { timeout: 60_000 }, () => {
  assert.equal(metrics.types.get("buildplane_ensure_image_requests_total"), "counter");
  assert.equal(metrics.sum("buildplane_ensure_image_requests_total", { result: "ready", cached: "false" }), 1);
  assert.equal(metrics.sum("buildplane_ensure_image_requests_total", { result: "ready", cached: "true" }), 1);
  assert.equal(metrics.sum("buildplane_ensure_image_requests_total", { result: "failed", cached: "false" }), 1);
  assert.equal(metrics.sum("buildplane_ensure_image_requests_total", { result: "canceled", cached: "false" }), 1);
});

test("builds are counted by mode and result, with a duration histogram by mode", { timeout: 60_000 }, () => {
  assert.equal(metrics.sum("buildplane_builds_total", { mode: "command", result: "succeeded" }), 1);
  assert.equal(metrics.sum("buildplane_builds_total", { mode: "command", result: "failed" }), 1);
  assert.equal(metrics.sum("buildplane_builds_total", { mode: "command", result: "canceled" }), 1);
  assert.equal(metrics.types.get("buildplane_build_duration_seconds"), "histogram");
  assert.equal(metrics.sum("buildplane_build_duration_seconds_count", { mode: "command" }), 3);
  assert.ok(metrics.sum("buildplane_build_duration_seconds_sum", { mode: "command" }) > 0);
});

test("each build phase has its duration histogram: resolve, fetch, context, build, push", { timeout: 60_000 }, () => {
  assert.equal(metrics.types.get("buildplane_build_phase_duration_seconds"), "histogram");
  // Four requests resolve (a build may resolve again once it holds its lease); one fetch fills the mirror;
  // three builds get a context and run; one pushes.
  assert.ok(metrics.sum("buildplane_build_phase_duration_seconds_count", { phase: "resolve" }) >= 4);
  assert.equal(metrics.sum("buildplane_build_phase_duration_seconds_count", { phase: "fetch" }), 1);
  assert.equal(metrics.sum("buildplane_build_phase_duration_seconds_count", { phase: "context" }), 3);
  assert.equal(metrics.sum("buildplane_build_phase_duration_seconds_count", { phase: "build" }), 3);
  assert.equal(metrics.sum("buildplane_build_phase_duration_seconds_count", { phase: "push" }), 1);
});

test("queue depth and running builds read zero once the builds ended", { timeout: 60_000 }, () => {
  assert.equal(metrics.types.get("buildplane_build_queue_depth"), "gauge");
  assert.equal(metrics.types.get("buildplane_builds_running"), "gauge");
  assert.deepEqual(metrics.find("buildplane_build_queue_depth").map((s) => s.value), [0]);
  assert.deepEqual(metrics.find("buildplane_builds_running").map((s) => s.value), [0]);
});

test("registry requests are counted by operation and code, the retried 503 included", { timeout: 60_000 }, () => {
  assert.equal(metrics.sum("buildplane_registry_requests_total", { op: "put_manifest", code: "503" }), 1);
  assert.ok(metrics.sum("buildplane_registry_requests_total", { op: "put_manifest", code: "201" }) >= 1);
  assert.ok(metrics.sum("buildplane_registry_requests_total", { op: "head_manifest" }) >= 3, text);
  const ops = new Set(metrics.find("buildplane_registry_requests_total").map((s) => s.labels["op"]));
  for (const op of ops) assert.match(op ?? "", /^(get|head|put|post|patch|delete)_(token|ping|upload|blob|manifest|tags|other)$|^ping$/);
});

test("git fetches are timed and mirror lookups counted as hits and misses", { timeout: 60_000 }, () => {
  assert.equal(metrics.sum("buildplane_git_fetch_duration_seconds_count", { result: "ok" }), 1);
  assert.equal(metrics.sum("buildplane_git_mirror_lookups_total", { result: "miss" }), 1);
  assert.ok(metrics.sum("buildplane_git_mirror_lookups_total", { result: "hit" }) >= 2);
});

test("RPCs are counted with the usual gRPC server metrics", { timeout: 60_000 }, () => {
  const ensure = { grpc_service: "buildplane.v1.ResolverService", grpc_method: "EnsureImage", grpc_type: "server_stream" };
  const lines = text.split("\n").filter((l) => l.startsWith("grpc_server_handled_total") || l.startsWith("grpc_server_started_total")).join("\n");
  assert.equal(metrics.sum("grpc_server_started_total", ensure), 4, lines);
  // The failed build's stream ends with its code after the `failed` event.
  assert.equal(metrics.sum("grpc_server_handled_total", { ...ensure, grpc_code: "OK" }), 2, lines);
  assert.equal(metrics.sum("grpc_server_handled_total", { ...ensure, grpc_code: "FAILED_PRECONDITION" }), 1, lines);
  assert.equal(metrics.sum("grpc_server_handled_total", { ...ensure, grpc_code: "CANCELED" }), 1, lines);
  assert.equal(metrics.sum("grpc_server_handling_seconds_count", ensure), 4);
});

test("the process defaults are exposed", { timeout: 60_000 }, () => {
  for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds", "nodejs_heap_size_used_bytes", "nodejs_eventloop_lag_p99_seconds"]) {
    assert.ok(metrics.find(name).length > 0, `${name} is missing`);
  }
});

test("builder_nodes shows no series on a builder without a delegate pool", { timeout: 60_000 }, () => {
  assert.deepEqual(metrics.find("buildplane_builder_nodes"), []);
});

test("label values are bounded: no build id, commit, image name, tag or repository", { timeout: 60_000 }, () => {
  const unbounded = [repo.commit, repo.commit.slice(0, 12), repo.path, marker, "obs/cli-", ...builds.flatMap((b) => b.events.map((e) => e["build_id"]).filter((v): v is string => typeof v === "string"))];
  for (const ref of madeImages) unbounded.push(ref, ref.slice(ref.lastIndexOf(":") + 1));
  const allowedLabels = new Set(["result", "cached", "mode", "phase", "op", "code", "state", "le", "grpc_service", "grpc_method", "grpc_type", "grpc_code", "quantile", "version", "major", "minor", "patch", "type", "space", "kind"]);
  for (const s of metrics.samples) {
    for (const [name, value] of Object.entries(s.labels)) {
      assert.ok(allowedLabels.has(name), `${s.name} has label ${name}`);
      for (const u of unbounded) assert.ok(!value.includes(u), `${s.name}{${name}="${value}"} holds ${u}`);
    }
  }
});

test("a real Prometheus scrapes /metrics with the read token and sees the build counters", { timeout: 120_000 }, async () => {
  await eventually("up{job=buildplane}", () => prometheus.query('up{job="buildplane"}'), (r) => r[0]?.value[1] === "1");
  // Prometheus's newest sample may predate the end of the last build: wait for the values.
  const value = async (expr: string, want: string): Promise<void> => {
    const r = await eventually(expr, () => prometheus.query(expr), (v) => v[0]?.value[1] === want);
    assert.equal(r.length, 1);
  };
  await value('buildplane_builds_total{mode="command",result="succeeded"}', "1");
  await value('buildplane_builds_total{mode="command",result="failed"}', "1");
  await value('buildplane_ensure_image_requests_total{result="ready",cached="true"}', "1");
  await value('sum(grpc_server_handled_total{grpc_method="EnsureImage"})', "4");
  await value('buildplane_builds_total{mode="command",result="canceled"}', "1");
  await value('buildplane_registry_requests_total{op="put_manifest",code="503"}', "1");
});

test("the Grafana dashboard names only metrics /metrics exposes, and every query runs in Prometheus", { timeout: 180_000 }, async () => {
  const dashboard = JSON.parse(await readFile(new URL("../../deploy/grafana/buildplane-dashboard.json", import.meta.url), "utf8")) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
  assert.ok(exprs.length >= 15, `${exprs.length} queries`);
  const exposed = new Set(metrics.samples.map((s) => s.name));
  const named = new Set(exprs.flatMap((e) => [...e.expr.matchAll(/\b(?:buildplane|grpc_server|process|nodejs)_[a-z0-9_]+\b/g)].map((m) => m[0])));
  for (const name of [...named].filter((n) => n !== "buildplane_builder_nodes")) assert.ok(exposed.has(name), `the dashboard names ${name}, which /metrics does not expose`);
  assert.ok(metrics.types.has("buildplane_builder_nodes"), "buildplane_builder_nodes is a registered family");
  // Two scrapes at least, so rate() has points to work with.
  await eventually("two scrapes", () => prometheus.query('count_over_time(up{job="buildplane"}[1m])'), (r) => Number(r[0]?.value[1]) >= 3);
  for (const { panel, expr } of exprs) {
    const result = await prometheus.query(expr.replaceAll("$__rate_interval", "1m"));
    if (!expr.includes("buildplane_builder_nodes")) assert.ok(result.length > 0, `panel "${panel}": ${expr} returns no series`);
  }
});
