import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { after, before, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { formatDiagnostic } from "../../libs/config/config-error.js";
import { validateConfigText } from "../../libs/config/validate-config.js";
import { BuilderService } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { Secret } from "../../libs/secret/secret.js";
import { createDelegateBuilder } from "../../services/builder/delegate/delegate-builder.js";
import { createOpenRunNode } from "../../services/builder/delegate/openrun-node.js";
import { openRunDelegatePath, openRunHealthPath } from "../../services/builder/wire/openrun-codec.js";
import { makeJob, plainTarget } from "../delegate/fixtures/build-fixtures.js";
import { NodeStartError, startServe } from "../delegate/fixtures/start-node.js";
import { cliEnv } from "../helpers/buildplane-cli.js";
import { freePort } from "../helpers/free-port.js";
import { makeTestCerts, type TestCerts } from "../helpers/test-certs.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";

const token = `tok-${randomUUID()}`;
/** Not routed anywhere: the main install only has to name it, never reach it. */
const remote = "http://10.255.255.1:25222";
let dir: TempDir;
let certs: TestCerts;
let loopback: string;

before(async () => {
  dir = await tempDir("buildplane-plaintext-");
  certs = await makeTestCerts(dir.path);
  loopback = `http://127.0.0.1:${await freePort()}`;
});

after(async () => {
  await dir?.remove();
});

/** A main install delegating to `urls`, with `extra` lines in `[builder]`. */
async function mainConfig(urls: readonly string[], extra: readonly string[] = []): Promise<string> {
  const file = join(dir.path, `main-${randomUUID()}.toml`);
  const toml = [
    "[http]",
    'host = "127.0.0.1"',
    "port = 0",
    "redirect_to_https = false",
    "",
    "[builder]",
    `mode = ${JSON.stringify(`delegate:${urls.join(",")}`)}`,
    ...extra,
    "",
    "[registry]",
    'url = "127.0.0.1:5000"',
    "insecure = true",
    "",
    "[system]",
    `data_dir = ${JSON.stringify(join(dir.path, `data-${randomUUID()}`))}`,
    `builder_auth_token = ${JSON.stringify(token)}`,
  ].join("\n");
  await writeFile(file, `${toml}\n`, { mode: 0o600 });
  return file;
}

const noEngine = (): NodeJS.ProcessEnv => cliEnv({ DOCKER_HOST: "unix:///nonexistent.sock" });

test("require_tls_to_nodes refuses each plain-HTTP node off this machine, naming the url and the key, and lets loopback and https nodes through", async () => {
  const file = join(dir.path, "rules.toml");
  const text = `[builder]\nmode = "delegate:${remote},${loopback},https://builder.internal:25222,openrun+http://builder2.internal:25222"\nrequire_tls_to_nodes = true\n\n[registry]\nurl = "reg.example.com:5000"\n\n[system]\nbuilder_auth_token = "t"\n`;
  const result = validateConfigText(text, file, {});
  assert.equal(result.config, undefined);
  assert.deepEqual(result.diagnostics.map(formatDiagnostic), [
    `${file}:2:1: builder.mode: builder node ${remote} is reached over plain HTTP across the network, which [builder] require_tls_to_nodes = true refuses: expected https:// (or a loopback node)`,
    `${file}:2:1: builder.mode: builder node openrun+http://builder2.internal:25222 is reached over plain HTTP across the network, which [builder] require_tls_to_nodes = true refuses: expected https:// (or a loopback node)`,
  ]);
  const allowed = validateConfigText(text.replace("require_tls_to_nodes = true", "require_tls_to_nodes = false"), file, {});
  assert.deepEqual(allowed.diagnostics, []);
  assert.ok(allowed.config);
  const loopOnly = validateConfigText(text.replace(`${remote},`, "").replace(",openrun+http://builder2.internal:25222", ""), file, {});
  assert.deepEqual(loopOnly.diagnostics, []);
});

test("serve with require_tls_to_nodes and a plain-HTTP remote node does not start, naming the node and the key", async () => {
  const config = await mainConfig([remote, loopback], ["require_tls_to_nodes = true"]);
  await assert.rejects(startServe(config, noEngine()), (err: unknown) => {
    assert.ok(err instanceof NodeStartError, String(err));
    assert.notEqual(err.exitCode, 0);
    assert.match(err.output, new RegExp(`builder node ${remote.replaceAll(".", "\\.")} is reached over plain HTTP across the network, which \\[builder\\] require_tls_to_nodes = true refuses`));
    assert.doesNotMatch(err.output, /buildplane listening on/);
    return true;
  });
});

test("a main install warns at start about each plain-HTTP remote node and GetStatus marks only those as plaintext", async () => {
  const main = await startServe(await mainConfig([remote, loopback]), noEngine());
  try {
    const warnings = main.output().split("\n").filter((l) => l.includes("is reached over plain HTTP"));
    assert.equal(warnings.length, 1, main.output());
    assert.match(warnings[0] ?? "", new RegExp(`warning: builder node ${remote.replaceAll(".", "\\.")} is reached over plain HTTP: the builder token, registry credentials and build args cross the network in clear`));
    const builder = createClient(
      BuilderService,
      createGrpcTransport({ baseUrl: main.url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))] }),
    );
    const status = await builder.getStatus({});
    assert.deepEqual(
      status.nodes.map((n) => [n.url, n.plaintext]).sort(),
      [[remote, true], [loopback, false]].sort(),
    );
  } finally {
    await main.stop();
  }
});

test("the OpenRun node client presents its client certificate to a node that requires one", async () => {
  const presented: string[] = [];
  const server = https.createServer(
    { cert: await readFile(certs.serverCertPath), key: await readFile(certs.serverKeyPath), ca: certs.caPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      presented.push(`${req.url ?? ""} ${(req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? ""}`);
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-length": "0" }).end());
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `openrun+https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const without = createOpenRunNode({ url, token: new Secret(token), caPem: certs.caPem });
    const refused = await without.probe(AbortSignal.timeout(5000));
    assert.equal(refused.healthy, false);
    assert.notEqual(refused.reason, "");

    const digest = `sha256:${"0".repeat(64)}`;
    const builder = createDelegateBuilder({
      urls: [url],
      token: new Secret(token),
      tls: { caPem: certs.caPem, certPem: certs.clientCertPem, keyPem: new Secret(certs.clientKeyPem) },
      checkDigest: async () => digest,
      pollIntervalMs: 60_000,
    });
    try {
      const job = makeJob({ registry: plainTarget("127.0.0.1:5000") });
      const outcome = await builder.build(job, () => undefined, AbortSignal.timeout(30_000));
      assert.deepEqual(outcome, { reference: job.reference, digest });
    } finally {
      await builder.close();
    }
    assert.ok(presented.includes(`${openRunHealthPath} buildplane test client`), presented.join("\n"));
    assert.ok(presented.includes(`${openRunDelegatePath} buildplane test client`), presented.join("\n"));
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
