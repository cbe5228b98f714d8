import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { cliEnv, runCli } from "../helpers/buildplane-cli.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { startServe, type TestNode } from "../delegate/fixtures/start-node.js";
import { startOtlpReceiver, type OtlpReceiver } from "./fixtures/otlp-receiver.js";

/**
 * Three `buildplane serve` processes (all services each) answering
 * ResolveImage over the Connect protocol: one at `[log] level = "warn"`, one
 * with the same file raised to debug by `BUILDPLANE_LOG_LEVEL`, one tracing
 * to an OTLP receiver and called with a `traceparent` of the test's own.
 */

const readToken = `read-${randomUUID()}`;
const buildToken = `build-${randomUUID()}`;
let dir: TempDir;
let repo: TestGitRepo;
let receiver: OtlpReceiver;
let quiet: TestNode;
let verbose: TestNode;
let traced: TestNode;
let sampledOff: TestNode;

/** stderr of a process as JSON objects; fails on a line that is not one. */
function logLines(p: TestNode): Array<Record<string, unknown>> {
  return p
    .output()
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("buildplane listening on"))
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return assert.fail(`a log line is not JSON: ${line}`);
      }
    });
}

/** ResolveImage of the test repository over the Connect protocol (JSON, HTTP/1.1). */
async function resolveImage(p: TestNode, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`${p.url}/buildplane.v1.ResolverService/ResolveImage`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${buildToken}`, ...headers },
    body: JSON.stringify({ spec: { source: { repository: repo.url, ref: "main" }, appId: "logs" } }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

before(async () => {
  dir = await tempDir("buildplane-logs-");
  receiver = await startOtlpReceiver();
  repo = await makeGitRepo({ Containerfile: "FROM local/busybox:1\n" });
  const config = async (name: string, level: string): Promise<string> => {
    const file = join(dir.path, `${name}.toml`);
    const toml = [
      "[http]",
      'host = "127.0.0.1"',
      "port = 0",
      "",
      "[system]",
      `data_dir = ${JSON.stringify(join(dir.path, name))}`,
      'container_command = "docker"',
      "",
      "[security]",
      `read_token = ${JSON.stringify(readToken)}`,
      `build_token = ${JSON.stringify(buildToken)}`,
      "",
      "[source]",
      `local_roots = [${JSON.stringify(dirname(repo.path))}]`,
      "",
      "[log]",
      `level = ${JSON.stringify(level)}`,
    ].join("\n");
    await writeFile(file, `${toml}\n`, { mode: 0o600 });
    return file;
  };
  [quiet, verbose, traced, sampledOff] = await Promise.all([
    config("quiet", "warn").then((c) => startServe(c, cliEnv())),
    config("verbose", "warn").then((c) => startServe(c, cliEnv({ BUILDPLANE_LOG_LEVEL: "debug" }))),
    config("traced", "info").then((c) =>
      startServe(c, cliEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_SERVICE_NAME: "bp-logs" })),
    ),
    config("sampled", "info").then((c) =>
      startServe(c, cliEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: "bp-sampled", OTEL_TRACES_SAMPLER: "parentbased_always_off" })),
    ),
  ]);
});

after(async () => {
  await Promise.all([quiet, verbose, traced, sampledOff].map((p) => p?.stop()));
  await receiver?.stop();
  await repo?.remove();
  await dir?.remove();
});

test('[log] level = "warn" writes no access line', { timeout: 120_000 }, async () => {
  await resolveImage(quiet);
  // The access line is written as the call ends, before the response is complete: a second call orders after it.
  await resolveImage(quiet);
  const lines = logLines(quiet);
  assert.deepEqual(lines.filter((l) => l["level"] === "info" || l["level"] === "debug"), []);
});

test("BUILDPLANE_LOG_LEVEL=debug overrides the file: access lines at info, calls between services of the process at debug", { timeout: 120_000 }, async () => {
  await resolveImage(verbose);
  await until("the access line", () => logLines(verbose).some((l) => l["msg"] === "rpc" && l["method"] === "ResolveImage"));
  const lines = logLines(verbose);
  const access = lines.find((l) => l["msg"] === "rpc" && l["method"] === "ResolveImage");
  assert.ok(access);
  assert.equal(access["level"], "info");
  assert.equal(access["service"], "buildplane.v1.ResolverService");
  assert.equal(access["code"], "ok");
  assert.equal(typeof access["duration_ms"], "number");
  assert.equal(access["caller"], "the [security] build_token token");
  assert.match(String(access["time"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  assert.equal(typeof access["pid"], "number");
  assert.equal("trace_id" in access, false, "no trace_id without tracing");
  const inProcess = lines.filter((l) => l["msg"] === "rpc" && l["caller"] === "in-process");
  assert.ok(inProcess.some((l) => l["service"] === "buildplane.v1.SourceService" && l["level"] === "debug"), JSON.stringify(inProcess));
  const out = verbose.output();
  assert.ok(!out.includes(buildToken) && !out.includes(readToken), "a token reached the log");
});

test("a call with a traceparent continues the caller's trace: server span, in-process spans and log lines carry its trace id", { timeout: 120_000 }, async () => {
  const traceId = randomBytes(16).toString("hex");
  const parentId = randomBytes(8).toString("hex");
  await resolveImage(traced, { traceparent: `00-${traceId}-${parentId}-01` });
  await until("the server span", () => receiver.spans.some((s) => s.traceId === traceId && s.parentSpanId === parentId));
  const server = receiver.spans.find((s) => s.traceId === traceId && s.parentSpanId === parentId);
  assert.equal(server?.name, "buildplane.v1.ResolverService/ResolveImage");
  assert.equal(server?.kind, 2);
  assert.equal(server?.service, "bp-logs");
  // The resolver calls source and builder in the same process: a client and a server span each.
  for (const name of ["buildplane.v1.SourceService/Describe", "buildplane.v1.BuilderService/HasImage"]) {
    for (const kind of [2, 3]) await until(`${name} kind ${kind}`, () => receiver.spans.some((s) => s.traceId === traceId && s.name === name && s.kind === kind));
  }
  const access = logLines(traced).find((l) => l["msg"] === "rpc" && l["method"] === "ResolveImage");
  assert.equal(access?.["trace_id"], traceId);
});

test("a call without a traceparent starts a trace of its own", { timeout: 120_000 }, async () => {
  const before = new Set(receiver.spans.map((s) => s.traceId));
  await resolveImage(traced);
  await until("a new root span", () => receiver.spans.some((s) => !before.has(s.traceId) && s.parentSpanId === "" && s.name === "buildplane.v1.ResolverService/ResolveImage"));
});

test("OTEL_TRACES_SAMPLER applies: parentbased_always_off records only calls whose caller sampled them", { timeout: 120_000 }, async () => {
  await resolveImage(sampledOff); // no traceparent: not sampled
  const traceId = randomBytes(16).toString("hex");
  await resolveImage(sampledOff, { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` });
  await until("the sampled call's span", () => receiver.spans.some((s) => s.service === "bp-sampled" && s.traceId === traceId && s.kind === 2));
  // The unsampled call ended first, so its spans would have been exported in this batch or an earlier one.
  const recorded = new Set(receiver.spans.filter((s) => s.service === "bp-sampled").map((s) => s.traceId));
  assert.deepEqual([...recorded], [traceId]);
  // Its access line has no trace id; the sampled one's has.
  const access = logLines(sampledOff).filter((l) => l["msg"] === "rpc" && l["method"] === "ResolveImage");
  assert.deepEqual(access.map((l) => l["trace_id"]), [undefined, traceId]);
});

test("serve refuses an OTLP protocol it cannot export with, exit 2 and the variable named", { timeout: 60_000 }, async () => {
  const r = await runCli(["serve", "--port", "0"], cliEnv({ BUILDPLANE_SYSTEM_DATA_DIR: join(dir.path, "refused"), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }), 60_000);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, 'buildplane: OTEL_EXPORTER_OTLP_PROTOCOL "grpc" is not supported: expected http/protobuf or http/json\n');
});
