import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { makeTestCerts, type TestCerts } from "../helpers/test-certs.js";
import { cliEnv, runCli, type CliRun } from "../helpers/buildplane-cli.js";
import { startServe, type TestNode } from "./fixtures/start-node.js";
import { removeTestImages } from "./fixtures/test-images.js";

const token = `tok-${randomUUID()}`;
const marker = `tls${randomUUID().replaceAll("-", "").slice(0, 12)}`;
let dir: TempDir;
let certs: TestCerts;
let otherCa: TestCerts;
let registry: TestRegistry;
let repo: TestGitRepo;
let node: TestNode;
const madeImages: string[] = [];

before(async () => {
  dir = await tempDir("buildplane-tls-");
  await mkdir(join(dir.path, "certs"));
  await mkdir(join(dir.path, "other"));
  certs = await makeTestCerts(join(dir.path, "certs"));
  otherCa = await makeTestCerts(join(dir.path, "other"));
  registry = await startRegistry();
  repo = await makeGitRepo({ Containerfile: `FROM local/busybox:1\nRUN echo built-${marker} > /built\n` });
  // A builder node serving TLS only, and asking every client for a certificate signed by the test CA.
  const nodeConfig = join(dir.path, "node.toml");
  await writeFile(
    nodeConfig,
    [
      "[http]", 'host = "127.0.0.1"', "port = 0", "",
      "[https]", `cert_file = ${JSON.stringify(certs.serverCertPath)}`, `key_file = ${JSON.stringify(certs.serverKeyPath)}`,
      `client_ca_file = ${JSON.stringify(certs.caPath)}`, "",
      "[system]", `data_dir = ${JSON.stringify(join(dir.path, "node-data"))}`, 'container_command = "docker"',
      `builder_auth_token = ${JSON.stringify(token)}`, "",
      "[security]", "admin_over_tcp = true", "",
    ].join("\n"),
    { mode: 0o600 },
  );
  node = await startServe(nodeConfig, cliEnv());
});

after(async () => {
  await node?.stop();
  await registry?.stop();
  await removeTestImages(madeImages);
  await repo?.remove();
  await dir?.remove();
});

async function mainConfig(tls: { ca?: string; clientCert?: boolean }): Promise<string> {
  const file = join(dir.path, `main-${randomUUID()}.toml`);
  const lines = [
    "[builder]",
    `mode = ${JSON.stringify(`delegate:${node.url}`)}`,
    ...(tls.ca ? [`node_ca_file = ${JSON.stringify(tls.ca)}`] : []),
    ...(tls.clientCert ? [`node_client_cert_file = ${JSON.stringify(certs.clientCertPath)}`, `node_client_key_file = ${JSON.stringify(certs.clientKeyPath)}`] : []),
    "",
    "[registry]", `url = ${JSON.stringify(registry.host)}`, "insecure = true", "",
    "[system]", `data_dir = ${JSON.stringify(join(dir.path, `main-${randomUUID()}`))}`, `builder_auth_token = ${JSON.stringify(token)}`,
  ];
  await writeFile(file, `${lines.join("\n")}\n`, { mode: 0o600 });
  return file;
}

const build = async (config: string, app: string): Promise<CliRun> =>
  runCli(["build", repo.url, "--app", app, "--json", "--config", config], cliEnv({ DOCKER_HOST: "unix:///nonexistent.sock" }));
const show = (r: CliRun): string => `exit ${String(r.code)}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

test("a main install trusting the node's CA and presenting a client certificate builds over TLS", async () => {
  assert.match(node.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const run = await build(await mainConfig({ ca: certs.caPath, clientCert: true }), "tls-ok");
  const last = run.events.at(-1);
  if (last?.["type"] === "ready") madeImages.push(String(last["image"]), String(last["image"]).split("/").pop() ?? "");
  assert.equal(run.code, 0, show(run));
  assert.equal(last?.["type"], "ready", show(run));
  assert.ok(run.events.some((e) => e["type"] === "started" && e["node"] === node.url), show(run));
});

test("a main install without a client certificate is refused by the mTLS node and fails with unavailable", async () => {
  const run = await build(await mainConfig({ ca: certs.caPath }), "tls-nocert");
  const last = run.events.at(-1);
  assert.equal(run.code, 1, show(run));
  assert.equal(last?.["type"], "failed", show(run));
  assert.equal(last?.["code"], "unavailable", show(run));
  assert.match(String(last?.["message"]), new RegExp(`^no builder node could run the build: ${node.url}: builder node ${node.url} could not be reached: .*certificate required`), show(run));
});

test("a main install that does not trust the node's certificate fails with unavailable naming the node", async () => {
  const run = await build(await mainConfig({ ca: otherCa.caPath, clientCert: true }), "tls-untrusted");
  const last = run.events.at(-1);
  assert.equal(run.code, 1, show(run));
  assert.equal(last?.["type"], "failed", show(run));
  assert.equal(last?.["code"], "unavailable", show(run));
  assert.equal(String(last?.["message"]), `no builder node could run the build: ${node.url}: builder node ${node.url} could not be reached: self-signed certificate in certificate chain`, show(run));
});
