import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { cliEnv, runCli, type CliRun } from "../helpers/buildplane-cli.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { startServe, type TestNode } from "../delegate/fixtures/start-node.js";
import { removeTestImages } from "../delegate/fixtures/test-images.js";
import { removeImagesOfBuilds } from "../e2e/app-fixture.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./fixtures/otlp-receiver.js";

/**
 * `buildplane build` traced from the CLI: the embedded run (every service in
 * the CLI's process) and an uploaded folder sent to a traced server.
 */

const buildToken = `build-${randomUUID()}`;
const marker = `m${randomUUID().replaceAll("-", "")}`;
let dir: TempDir;
let repo: TestGitRepo;
let receiver: OtlpReceiver;
let server: TestNode;
let embedded: CliRun;
let uploaded: CliRun;
const madeImages: string[] = [];
/** Builds whose images (any name, found by their build-id label) go after the run. */
const madeBuilds: string[] = [];

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const made = (run: CliRun): void => {
  const ready = run.events.find((e) => e["type"] === "ready");
  if (typeof ready?.["image"] === "string") madeImages.push(ready["image"]);
  if (typeof ready?.["buildId"] === "string") madeBuilds.push(ready["buildId"]);
};

/** The trace the CLI run named `service` started: its root span's trace id. */
const rootOf = (service: string): ReceivedSpan | undefined => receiver.spans.find((s) => s.service === service && s.parentSpanId === "" && s.kind === 3);

before(async () => {
  dir = await tempDir("buildplane-cli-traces-");
  receiver = await startOtlpReceiver();
  repo = await makeGitRepo({ Containerfile: `FROM local/busybox:1\nRUN echo embedded-${marker}\n` });
  const folder = join(dir.path, "folder");
  await mkdir(folder);
  await writeFile(join(folder, "Containerfile"), `FROM local/busybox:1\nCOPY note.txt /note.txt\nRUN echo uploaded-${marker}\n`);
  await writeFile(join(folder, "note.txt"), `${marker}\n`);
  const config = join(dir.path, "server.toml");
  const toml = [
    "[http]",
    'host = "127.0.0.1"',
    "port = 0",
    "",
    "[system]",
    `data_dir = ${JSON.stringify(join(dir.path, "server"))}`,
    'container_command = "docker"',
    "",
    "[security]",
    `build_token = ${JSON.stringify(buildToken)}`,
    "",
    "[source]",
    `local_roots = [${JSON.stringify(dirname(repo.path))}]`,
  ].join("\n");
  await writeFile(config, `${toml}\n`, { mode: 0o600 });
  server = await startServe(config, cliEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: "bp-server" }));
  const otel = (name: string): NodeJS.ProcessEnv => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_SERVICE_NAME: name });
  [embedded, uploaded] = await Promise.all([
    runCli(["build", repo.url, "--app", "obs", "--json"], cliEnv({ ...otel("bp-embedded"), BUILDPLANE_SYSTEM_DATA_DIR: join(dir.path, "embedded"), BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker" }), 300_000),
    runCli(["build", folder, "--server", server.url, "--app", "obs", "--json"], cliEnv({ ...otel("bp-upload"), BUILDPLANE_TOKEN: buildToken }), 300_000),
  ]);
  made(embedded);
  made(uploaded);
});

after(async () => {
  await server?.stop();
  await receiver?.stop();
  await removeTestImages(madeImages);
  await removeImagesOfBuilds("docker", madeBuilds);
  await repo?.remove();
  await dir?.remove();
});

test("an embedded build is one trace through the services of the CLI's process", { timeout: 120_000 }, async () => {
  assert.equal(embedded.code, 0, `${embedded.stdout}\n${embedded.stderr}`);
  // The CLI exports what is left when it exits: its spans are there once it ended.
  const root = rootOf("bp-embedded");
  assert.equal(root?.name, "buildplane.v1.ResolverService/EnsureImage");
  const inTrace = receiver.spans.filter((s) => s.traceId === root?.traceId);
  const server = (name: string): boolean => inTrace.some((s) => s.name === name && s.kind === 2);
  for (const name of [
    "buildplane.v1.ResolverService/EnsureImage",
    "buildplane.v1.SourceService/Describe",
    "buildplane.v1.SourceService/StreamContext",
    "buildplane.v1.MetadataService/CreateBuild",
    "buildplane.v1.BuilderService/Build",
  ]) {
    assert.ok(server(name), `no server span ${name} in ${inTrace.map((s) => s.name).join(", ")}`);
  }
  for (const phase of ["build.resolve", "build.fetch", "build", "build.build"]) assert.ok(inTrace.some((s) => s.name === phase), `no span ${phase}`);
  assert.deepEqual(new Set(inTrace.map((s) => s.service)), new Set(["bp-embedded"]));
  assert.equal(receiver.spans.filter((s) => s.service === "bp-embedded" && s.parentSpanId === "" && s.name.includes("EnsureImage")).length, 1);
});

test("an uploaded folder's build on a server continues the CLI's trace", { timeout: 120_000 }, async () => {
  assert.equal(uploaded.code, 0, `${uploaded.stdout}\n${uploaded.stderr}`);
  const root = rootOf("bp-upload");
  assert.equal(root?.name, "buildplane.v1.ResolverService/EnsureImageFromContext");
  const on = (name: string, kind?: number): boolean =>
    receiver.spans.some((s) => s.service === "bp-server" && s.traceId === root?.traceId && s.name === name && (kind === undefined || s.kind === kind));
  await until("the server's spans of the upload", () => on("buildplane.v1.ResolverService/EnsureImageFromContext", 2) && on("buildplane.v1.BuilderService/Build", 2) && on("build.build"));
  const serverSpan = receiver.spans.find((s) => s.service === "bp-server" && s.name === "buildplane.v1.ResolverService/EnsureImageFromContext" && s.kind === 2);
  assert.equal(serverSpan?.parentSpanId, root?.spanId);
});
