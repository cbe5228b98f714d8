import assert from "node:assert/strict";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { openConfigSource, staticConfigSource } from "../../libs/config/config-source.js";
import { loadConfig } from "../../libs/config/load-config.js";
import { ConfigService, type Diagnostic } from "../../libs/gen/buildplane/v1/config_pb.js";
import { createErrorInterceptor } from "../../libs/rpc/errors.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { createConfigService, type ConfigServiceDeps } from "./service.js";

const dir = mkdtempSync(join(tmpdir(), "bp-config-service-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function write(text: string, name = `c${n++}.toml`): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function clientFor(deps: ConfigServiceDeps) {
  const transport = createRouterTransport((r) => r.service(ConfigService, createConfigService(deps)), {
    router: { interceptors: [createErrorInterceptor(silentLogger)] },
  });
  return createClient(ConfigService, transport);
}
const fromText = (text: string) => staticConfigSource(loadConfig({ file: write(text), env: { HOME: dir } }));

async function rejects(p: Promise<unknown>, code: Code, message: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, code);
    assert.equal(err.rawMessage, message);
    return true;
  });
}

describe("ConfigService", () => {
  test("GetConfig returns the effective config with secrets redacted", async () => {
    const client = clientFor(fromText('[registry]\nurl = "reg:5000"\nusername = "u"\npassword = "s3cret-pw"\n[system]\nbuilder_auth_token = "s3cret-tok"\n'));
    const { config } = await client.getConfig({});
    assert.equal(config?.registry?.url, "reg:5000");
    assert.equal(config?.registry?.password, "***");
    assert.equal(config?.system?.builderAuthToken, "***");
    assert.equal(config?.http?.port, 25222);
    assert.doesNotMatch(JSON.stringify(config, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)), /s3cret/);
  });

  test("ValidateConfig returns diagnostics for malformed toml instead of failing", async () => {
    const client = clientFor(fromText(""));
    const res = await client.validateConfig({ toml: "[builder\nmode = 1", fileName: "x.toml" });
    assert.equal(res.valid, false);
    assert.equal(res.diagnostics.length, 1);
    assert.equal(res.diagnostics[0]?.file, "x.toml");
    assert.equal(res.diagnostics[0]?.line, 1);
    assert.match(res.diagnostics[0]?.message ?? "", /^malformed toml: /);
  });

  test("ValidateConfig reports each problem with its key and position", async () => {
    const client = clientFor(fromText(""));
    const res = await client.validateConfig({ toml: '[builder]\nmode = "kanico"\n', fileName: "x.toml" });
    assert.equal(res.valid, false);
    assert.deepEqual(
      res.diagnostics.map((d) => [d.file, d.line, d.column, d.key, d.message]),
      [["x.toml", 2, 1, "builder.mode", '"kanico" is not valid: expected auto, command, kaniko or delegate:<url>[,<url>…]']],
    );
    assert.deepEqual((await client.validateConfig({ toml: "" })).valid, true);
  });

  test("WatchConfig sends the current config, then a valid change, then a rejected one with the old config", async () => {
    const file = write("[http]\nport = 1000\n", "watched.toml");
    const ac = new AbortController();
    after(() => ac.abort());
    const source = openConfigSource({ file, env: {}, signal: ac.signal, debounceMs: 20 });
    const client = clientFor(source);
    const stream = client.watchConfig({}, { signal: ac.signal })[Symbol.asyncIterator]();

    const first = await stream.next();
    assert.equal(first.value?.config?.http?.port, 1000);
    assert.deepEqual(first.value?.rejected, []);

    writeFileSync(file, "[http]\nport = 2000\n");
    const second = await stream.next();
    assert.equal(second.value?.config?.http?.port, 2000);
    assert.deepEqual(second.value?.rejected, []);

    writeFileSync(file, "[http]\nport = -1\n");
    const third = await stream.next();
    assert.equal(third.value?.config?.http?.port, 2000);
    assert.deepEqual(
      third.value?.rejected.map((d: Diagnostic) => [d.file, d.line, d.key, d.message]),
      [[file, 2, "http.port", "-1 is not valid: expected an integer from 0 to 65535"]],
    );
    ac.abort();
  });

  test("GetRegistryCredentials returns the password from password_file and the PEM files", async () => {
    write("  s3cret\n", "pw.txt");
    const ca = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
    write(ca, "ca.pem");
    write("CERT PEM", "cert.pem");
    write("KEY PEM", "key.pem");
    const client = clientFor(
      fromText('[registry]\nurl = "reg:5000"\nproject = "p"\nusername = "u"\npassword_file = "pw.txt"\nca_file = "ca.pem"\nclient_cert_file = "cert.pem"\nclient_key_file = "key.pem"\ninsecure = true\n'),
    );
    const { registry, expiresUnix } = await client.getRegistryCredentials({});
    assert.equal(expiresUnix, 0n);
    assert.deepEqual(
      { url: registry?.url, project: registry?.project, username: registry?.username, password: registry?.password, insecure: registry?.insecure },
      { url: "reg:5000", project: "p", username: "u", password: "s3cret", insecure: true },
    );
    assert.deepEqual([registry?.caPem, registry?.clientCertPem, registry?.clientKeyPem], [ca, "CERT PEM", "KEY PEM"]);
  });

  test("GetRegistryCredentials returns no registry when none is configured", async () => {
    const res = await clientFor(fromText("")).getRegistryCredentials({});
    assert.equal(res.registry, undefined);
  });

  test("GetRegistryCredentials fails with FailedPrecondition when a file disappeared after loading", async () => {
    const pw = write("x", "gone.txt");
    const client = clientFor(fromText('[registry]\nurl = "reg:5000"\npassword_file = "gone.txt"\n'));
    unlinkSync(pw);
    await rejects(client.getRegistryCredentials({}), Code.FailedPrecondition, `registry.password_file "${pw}" cannot be read (ENOENT): expected a readable file`);
  });

  test("GetRegistryCredentials returns an ecr destination without secrets: tokens are minted where they are used", async () => {
    const client = clientFor(fromText('[registry]\nurl = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"\ntype = "ecr"\naws_region = "eu-west-1"\n'));
    const { registry } = await client.getRegistryCredentials({});
    assert.equal(registry?.type, "ecr");
    assert.equal(registry?.url, "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
    assert.equal(registry?.awsRegion, "eu-west-1");
    assert.equal(registry?.password, "");
    assert.equal(registry?.username, "");
  });
});
