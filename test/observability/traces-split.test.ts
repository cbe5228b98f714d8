import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { cliEnv, runCli, type CliRun } from "../helpers/buildplane-cli.js";
import { freePort } from "../helpers/free-port.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { nodeToml, startServe, type TestNode } from "../delegate/fixtures/start-node.js";
import { removeTestImages } from "../delegate/fixtures/test-images.js";
import { removeImagesOfBuilds } from "../e2e/app-fixture.js";
import { parseExposition } from "./fixtures/metrics-text.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./fixtures/otlp-receiver.js";

/**
 * The five services split into five `buildplane serve` processes, the
 * builder delegating to a builder node (a sixth), every process and the CLI
 * exporting spans over OTLP/HTTP (JSON for some, protobuf for the others)
 * to a receiver of this test; one `buildplane build --server` against the
 * resolver. Its spans, and the JSON log lines of every process, are checked.
 */

const split = ["config", "metadata", "source", "resolver", "builder"] as const;
type Role = (typeof split)[number] | "node" | "openrun-main";
/** Which processes export JSON; the others protobuf (the default). */
const jsonRoles = new Set<Role | "cli">(["config", "source", "builder", "cli"]);

const buildToken = `build-${randomUUID()}`;
const servicesToken = `services-${randomUUID()}`;
const nodeToken = `node-${randomUUID()}`;
const secrets = [buildToken, servicesToken, nodeToken];
const marker = `m${randomUUID().replaceAll("-", "")}`;
let dir: TempDir;
let registry: TestRegistry;
let receiver: OtlpReceiver;
let repo: TestGitRepo;
const processes = new Map<Role, TestNode>();
let run: CliRun;
let openRunRun: CliRun;
let openRunTraceId = "";
const madeImages: string[] = [];
/** Builds whose images (any name, found by their build-id label) go after the run. */
const madeBuilds: string[] = [];
let traceId = "";

const otelEnv = (role: Role | "cli"): NodeJS.ProcessEnv => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
  OTEL_SERVICE_NAME: `bp-${role}`,
  OTEL_TRACES_SAMPLER: "parentbased_always_on",
  ...(jsonRoles.has(role) ? { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" } : {}),
});

/** The JSON objects of a process's log (stderr): every line must be one. */
function logLines(role: Role): Array<Record<string, unknown>> {
  const p = processes.get(role);
  assert.ok(p, role);
  const stderr = p.output().split("\n").filter((l) => l.trim() !== "" && !l.startsWith("buildplane listening on"));
  return stderr.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return assert.fail(`bp-${role} wrote a line that is not JSON: ${line}`);
    }
  });
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const spansOf = (service: string): ReceivedSpan[] => receiver.spans.filter((s) => s.service === service && s.traceId === traceId);

before(async () => {
  dir = await tempDir("buildplane-traces-");
  [registry, receiver] = await Promise.all([startRegistry(), startOtlpReceiver()]);
  repo = await makeGitRepo({
    Containerfile: `FROM local/busybox:1\nCOPY hello.txt /hello.txt\nRUN echo built-${marker}\n`,
    "hello.txt": `hello ${marker}\n`,
    "other/Containerfile": `FROM local/busybox:1\nRUN echo other-${marker}\n`,
  });
  const nodeDir = join(dir.path, "node");
  const nodeConfig = join(dir.path, "node.toml");
  await writeFile(nodeConfig, nodeToml(nodeDir, { token: nodeToken }), { mode: 0o600 });
  processes.set("node", await startServe(nodeConfig, cliEnv(otelEnv("node"))));

  const ports = Object.fromEntries(await Promise.all(split.map(async (s) => [s, await freePort()] as const))) as Record<(typeof split)[number], number>;
  const config = join(dir.path, "split.toml");
  const toml = [
    "[builder]",
    `mode = ${JSON.stringify(`delegate:${processes.get("node")?.url ?? ""}`)}`,
    "",
    "[registry]",
    `url = ${JSON.stringify(registry.host)}`,
    'project = "obs"',
    "insecure = true",
    "",
    "[security]",
    `build_token = ${JSON.stringify(buildToken)}`,
    // The resolver sends Build to the builder process over TCP.
    "admin_over_tcp = true",
    "",
    "[system]",
    `builder_auth_token = ${JSON.stringify(nodeToken)}`,
    "",
    "[source]",
    `local_roots = [${JSON.stringify(dirname(repo.path))}]`,
    "",
    "[services]",
    `token = ${JSON.stringify(servicesToken)}`,
    ...split.map((s) => `${s}_url = "http://127.0.0.1:${ports[s]}"`),
  ].join("\n");
  await writeFile(config, `${toml}\n`, { mode: 0o600 });
  const started = await Promise.all(
    split.map((s) =>
      startServe(
        config,
        cliEnv({ ...otelEnv(s), BUILDPLANE_HTTP_HOST: "127.0.0.1", BUILDPLANE_HTTP_PORT: String(ports[s]), BUILDPLANE_SYSTEM_DATA_DIR: join(dir.path, s) }),
        undefined,
        ["--services", s],
      ),
    ),
  );
  split.forEach((s, i) => processes.set(s, started[i] as TestNode));

  run = await runCli(["build", repo.url, "--server", processes.get("resolver")?.url ?? "", "--app", "obs", "--json"], cliEnv({ ...otelEnv("cli"), BUILDPLANE_TOKEN: buildToken }), 300_000);
  const ready = run.events.find((e) => e["type"] === "ready");
  if (typeof ready?.["image"] === "string") madeImages.push(ready["image"], ready["image"].slice(ready["image"].lastIndexOf("/") + 1));
  if (typeof ready?.["buildId"] === "string") madeBuilds.push(ready["buildId"]);
  const root = receiver.spans.find((s) => s.service === "bp-cli" && s.parentSpanId === "");
  traceId = root?.traceId ?? "";

  // An all-in-one main install sending its builds to the same node in OpenRun's wire format.
  const openRunConfig = join(dir.path, "openrun-main.toml");
  await writeFile(
    openRunConfig,
    `${toml.split("\n[services]")[0]?.replace(/^mode = .*$/m, `mode = ${JSON.stringify(`delegate:openrun+${processes.get("node")?.url ?? ""}`)}`)}\n[http]\nhost = "127.0.0.1"\nport = 0\n`,
    { mode: 0o600 },
  );
  processes.set("openrun-main", await startServe(openRunConfig, cliEnv({ ...otelEnv("openrun-main"), BUILDPLANE_SYSTEM_DATA_DIR: join(dir.path, "openrun-main") })));
  const cliSpans = new Set(receiver.spans.filter((s) => s.service === "bp-cli").map((s) => s.spanId));
  openRunRun = await runCli(
    ["build", repo.url, "--dir", "other", "--server", processes.get("openrun-main")?.url ?? "", "--app", "obs", "--json"],
    cliEnv({ ...otelEnv("cli"), BUILDPLANE_TOKEN: buildToken }),
    300_000,
  );
  const openReady = openRunRun.events.find((e) => e["type"] === "ready");
  if (typeof openReady?.["image"] === "string") madeImages.push(openReady["image"], openReady["image"].slice(openReady["image"].lastIndexOf("/") + 1));
  if (typeof openReady?.["buildId"] === "string") madeBuilds.push(openReady["buildId"]);
  await until("the second CLI root span", () => receiver.spans.some((s) => s.service === "bp-cli" && s.parentSpanId === "" && !cliSpans.has(s.spanId)));
  openRunTraceId = receiver.spans.find((s) => s.service === "bp-cli" && s.parentSpanId === "" && !cliSpans.has(s.spanId))?.traceId ?? "";
});

after(async () => {
  await Promise.all([...processes.values()].map((p) => p.stop()));
  await receiver?.stop();
  await registry?.stop();
  await removeTestImages(madeImages);
  await removeImagesOfBuilds("docker", madeBuilds);
  await repo?.remove();
  await dir?.remove();
});

test("the build through the split services and the node succeeds, and the CLI's trace starts at its EnsureImage call", { timeout: 60_000 }, () => {
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(traceId, /^[0-9a-f]{32}$/, `no root span from bp-cli among ${receiver.spans.length} spans`);
  const root = spansOf("bp-cli").find((s) => s.parentSpanId === "");
  assert.equal(root?.name, "buildplane.v1.ResolverService/EnsureImage");
  assert.equal(root?.kind, 3);
});

test("one trace id crosses config, metadata, source, resolver, builder and the builder node", { timeout: 120_000 }, async () => {
  const services = ["bp-resolver", "bp-config", "bp-metadata", "bp-source", "bp-builder", "bp-node"];
  // Processes export in batches about every second; a server span ends when its stream does.
  await until(`spans of ${services.join(", ")} in trace ${traceId}`, () => services.every((s) => spansOf(s).some((span) => span.kind === 2)));
  const serverSpans = (service: string): string[] => spansOf(service).filter((s) => s.kind === 2).map((s) => s.name);
  assert.ok(serverSpans("bp-resolver").includes("buildplane.v1.ResolverService/EnsureImage"), serverSpans("bp-resolver").join());
  assert.ok(serverSpans("bp-config").includes("buildplane.v1.ConfigService/GetRegistryCredentials"), serverSpans("bp-config").join());
  assert.ok(serverSpans("bp-source").some((n) => n.startsWith("buildplane.v1.SourceService/")), serverSpans("bp-source").join());
  assert.ok(serverSpans("bp-metadata").some((n) => n.startsWith("buildplane.v1.MetadataService/")), serverSpans("bp-metadata").join());
  assert.ok(serverSpans("bp-builder").includes("buildplane.v1.BuilderService/Build"), serverSpans("bp-builder").join());
  assert.ok(serverSpans("bp-node").includes("buildplane.v1.BuilderService/Build"), serverSpans("bp-node").join());
  assert.deepEqual(receiver.errors, []);
});

test("spans arrive in both OTLP encodings, and every parent of the trace is one of its spans", { timeout: 60_000 }, () => {
  const inTrace = receiver.spans.filter((s) => s.traceId === traceId);
  assert.ok(inTrace.some((s) => s.encoding === "application/json" && s.service === "bp-config"));
  assert.ok(inTrace.some((s) => s.encoding === "application/x-protobuf" && s.service === "bp-metadata"));
  const ids = new Set(inTrace.map((s) => s.spanId));
  for (const s of inTrace) if (s.parentSpanId !== "") assert.ok(ids.has(s.parentSpanId), `${s.service} ${s.name} has a parent outside the trace`);
  // No span of the build started a trace of its own.
  const roots = receiver.spans.filter((s) => s.parentSpanId === "" && s.name.includes("EnsureImage"));
  assert.deepEqual(new Set(roots.map((s) => s.service)), new Set(["bp-cli"]));
});

test("the build phases are spans of the same trace: resolve and fetch on the main install, build and push on the node", { timeout: 60_000 }, () => {
  const on = (service: string, name: string): boolean => spansOf(service).some((s) => s.name === name);
  assert.ok(on("bp-resolver", "build.resolve"));
  assert.ok(on("bp-source", "build.fetch"));
  assert.ok(on("bp-node", "build.build"));
  assert.ok(on("bp-node", "build.push"));
  const names = new Set(receiver.spans.filter((s) => s.traceId === traceId).map((s) => s.name));
  for (const phase of ["build.resolve", "build.fetch", "build", "build.build", "build.push"]) assert.ok(names.has(phase), `no span ${phase} in ${[...names].join(", ")}`);
});

test("a build sent to the node in OpenRun's wire format stays in the CLI's trace", { timeout: 120_000 }, async () => {
  assert.equal(openRunRun.code, 0, `${openRunRun.stdout}\n${openRunRun.stderr}`);
  assert.match(openRunTraceId, /^[0-9a-f]{32}$/);
  assert.notEqual(openRunTraceId, traceId);
  const on = (service: string, name: string, kind?: number): boolean =>
    receiver.spans.some((s) => s.traceId === openRunTraceId && s.service === service && s.name === name && (kind === undefined || s.kind === kind));
  await until("the main install's EnsureImage span, the node's OpenRun span and build spans", () =>
    on("bp-openrun-main", "buildplane.v1.ResolverService/EnsureImage", 2) && on("bp-node", "POST /_openrun/delegate_build", 2) && on("bp-node", "build.build") && on("bp-node", "build.push"),
  );
});

test("spans carry no secret", { timeout: 60_000 }, () => {
  const text = JSON.stringify(receiver.spans);
  for (const s of secrets) assert.ok(!text.includes(s), "a token reached a span");
});

test("every log line of every process is JSON; the resolver's access line names the caller, never the token", { timeout: 60_000 }, () => {
  for (const role of processes.keys()) logLines(role);
  const access = logLines("resolver").find((l) => l["msg"] === "rpc" && l["method"] === "EnsureImage");
  assert.ok(access, "no access line for EnsureImage");
  assert.equal(access["level"], "info");
  assert.equal(access["service"], "buildplane.v1.ResolverService");
  assert.equal(access["code"], "ok");
  assert.equal(typeof access["duration_ms"], "number");
  assert.equal(access["caller"], "the [security] build_token token");
  assert.equal(access["trace_id"], traceId);
  const all = [...processes.values()].map((p) => p.output()).join("\n");
  for (const s of secrets) assert.ok(!all.includes(s), "a token reached a log line");
});

test("services log access lines for each other's calls with the services token's name and the trace id", { timeout: 60_000 }, () => {
  const creds = logLines("config").find((l) => l["msg"] === "rpc" && l["method"] === "GetRegistryCredentials");
  assert.ok(creds, "no access line for GetRegistryCredentials");
  assert.equal(creds["code"], "ok");
  assert.equal(creds["caller"], "the [services] token token");
  assert.equal(creds["trace_id"], traceId);
  const build = logLines("node").find((l) => l["msg"] === "rpc" && l["method"] === "Build");
  assert.ok(build, "no access line for Build on the node");
  assert.equal(build["trace_id"], traceId);
});

test("the node logs the build's start and finish with build id, image key, mode and the trace id", { timeout: 60_000 }, () => {
  const lines = logLines("node");
  const startedLine = lines.find((l) => l["msg"] === "build started");
  const finished = lines.find((l) => l["msg"] === "build finished");
  assert.ok(startedLine && finished, "no build started/finished lines");
  assert.match(String(startedLine["build_id"]), /\S/);
  assert.equal(finished["build_id"], startedLine["build_id"]);
  assert.match(String(startedLine["image_key"]), /\S/);
  assert.equal(startedLine["mode"], "command");
  assert.equal(finished["result"], "succeeded");
  assert.equal(startedLine["trace_id"], traceId);
  assert.equal(finished["trace_id"], traceId);
});

test("the builder's /metrics counts the pool's nodes by state", { timeout: 60_000 }, async () => {
  const builder = processes.get("builder");
  assert.ok(builder);
  const res = await fetch(`${builder.url}/metrics`, { headers: { authorization: `Bearer ${servicesToken}` } });
  assert.equal(res.status, 200);
  const m = parseExposition(await res.text());
  assert.deepEqual(m.find("buildplane_builder_nodes", { state: "healthy" }).map((s) => s.value), [1]);
  assert.deepEqual(m.find("buildplane_builder_nodes", { state: "unhealthy" }).map((s) => s.value), [0]);
  assert.equal(m.sum("buildplane_builds_total", { mode: "delegate", result: "succeeded" }), 1);
});
