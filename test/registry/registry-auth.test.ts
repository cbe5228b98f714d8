import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { loadRegistryOptions } from "../../libs/registry/registry-options.js";
import { Secret } from "../../libs/secret/secret.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { bufferBlob, errorWith, ociManifest, optionsFor } from "./fixtures.js";
import { startTokenServer, type TokenServer } from "./token-server.js";

const once = { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 };

async function pushAndFind(client: ReturnType<typeof createRegistryClient>, repo: string): Promise<void> {
  const config = bufferBlob(Buffer.from("{}"));
  const layer = bufferBlob(randomBytes(64));
  await client.uploadBlob(repo, config);
  await client.uploadBlob(repo, layer);
  const digest = await client.putManifest(repo, "t1", ociManifest(config, [layer]));
  assert.equal((await client.headManifest(repo, "t1"))?.digest, digest);
}

describe("registry client over TLS with a CA the test makes", () => {
  let reg: TestRegistry;
  before(async () => { reg = await startRegistry({ tls: true }); });
  after(async () => { await reg.stop(); });

  it("pushes and finds an image when ca_file holds the CA", async () => {
    const client = createRegistryClient(optionsFor(reg));
    try { await pushAndFind(client, "tls/app"); } finally { client.close(); }
  });

  it("fails with failedPrecondition saying the certificate is not trusted and naming the registry", async () => {
    const client = createRegistryClient(optionsFor(reg, { caPem: "" }), { retry: once });
    try {
      await assert.rejects(client.headManifest("tls/app", "t1"), errorWith("failedPrecondition", new RegExp(`^registry "${reg.host}" presented a certificate that is not trusted \\(.+\\): set registry.ca_file`)));
    } finally { client.close(); }
  });

  it("skips verification when insecure is set", async () => {
    const client = createRegistryClient(optionsFor(reg, { caPem: "", insecure: true }));
    try { await pushAndFind(client, "tls/insecure"); } finally { client.close(); }
  });
});

describe("registry client over TLS with htpasswd basic auth", () => {
  let reg: TestRegistry;
  let dir: TempDir;
  before(async () => {
    reg = await startRegistry({ tls: true, htpasswd: true });
    dir = await tempDir();
  });
  after(async () => { await reg.stop(); await dir.remove(); });

  it("pushes and finds an image with the right password read from password_file", async () => {
    const passwordFile = join(dir.path, "password");
    await writeFile(passwordFile, `${reg.password}\n`);
    const options = await loadRegistryOptions({
      url: reg.host, project: "", type: "", username: reg.username, password: undefined, passwordFile,
      caFile: reg.caPath, clientCertFile: "", clientKeyFile: "", insecure: false, awsRegion: "", pushCheckTtlSecs: 60, existsCacheTtlSecs: 600,
    });
    const client = createRegistryClient(options);
    try { await pushAndFind(client, "basic/app"); } finally { client.close(); }
  });

  it("fails a wrong password with unauthenticated naming registry and user, never the password", async () => {
    const wrong = "wrong-password-123";
    const client = createRegistryClient(optionsFor(reg, { password: new Secret(wrong) }), { retry: once });
    try {
      await assert.rejects(client.headManifest("basic/app", "t1"), (err: unknown) => {
        errorWith("unauthenticated", new RegExp(`^registry "${reg.host}" rejected the credentials of user "${reg.username}"$`))(err);
        assert.ok(!JSON.stringify(err).includes(wrong) && !String((err as Error).stack).includes(wrong));
        return true;
      });
    } finally { client.close(); }
  });

  it("tells an anonymous caller to set credentials", async () => {
    const client = createRegistryClient(optionsFor(reg, { username: "", password: undefined }), { retry: once });
    try {
      await assert.rejects(client.headManifest("basic/app", "t1"), errorWith("unauthenticated", /requires authentication: set registry.username and registry.password or registry.password_file$/));
    } finally { client.close(); }
  });

  it("fails an unreadable password_file with failedPrecondition naming the key and path", async () => {
    const path = join(dir.path, "missing");
    await assert.rejects(loadRegistryOptions({
      url: reg.host, project: "", type: "", username: "u", password: undefined, passwordFile: path,
      caFile: "", clientCertFile: "", clientKeyFile: "", insecure: false, awsRegion: "", pushCheckTtlSecs: 60, existsCacheTtlSecs: 600,
    }), errorWith("failedPrecondition", new RegExp(`^registry.password_file "${path}" cannot be read \\(ENOENT\\): expected a readable file$`)));
  });
});

describe("registry client against a registry that requires a client certificate", () => {
  let reg: TestRegistry;
  before(async () => { reg = await startRegistry({ clientCa: true }); });
  after(async () => { await reg.stop(); });

  it("pushes and finds an image with the client certificate and key", async () => {
    const client = createRegistryClient(optionsFor(reg, { clientCertPem: reg.clientCertPem, clientKeyPem: new Secret(reg.clientKeyPem) }));
    try { await pushAndFind(client, "mtls/app"); } finally { client.close(); }
  });

  it("fails without a client certificate with failedPrecondition naming the registry", async () => {
    const client = createRegistryClient(optionsFor(reg), { retry: once });
    try {
      await assert.rejects(client.ping(), errorWith("failedPrecondition", new RegExp(`^registry "${reg.host}" refused the TLS handshake \\(.+\\): it requires a client certificate`)));
    } finally { client.close(); }
  });
});

describe("registry client with the token flow (a token server of the test's own, registry in auth: token mode)", () => {
  let reg: TestRegistry;
  let tokens: TokenServer;
  let dir: TempDir;
  const username = "robot";
  const password = "robot-secret-1";
  before(async () => {
    dir = await tempDir();
    tokens = await startTokenServer(dir.path, username, password);
    reg = await startRegistry({
      extraConfig: { auth: { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: tokens.rootCertBundle } } },
    });
  });
  after(async () => { await reg.stop(); await tokens.stop(); await dir.remove(); });

  it("pushes and finds an image with bearer tokens for the right scopes, reusing each token", async () => {
    const client = createRegistryClient(optionsFor(reg, { insecure: true, username, password: new Secret(password) }));
    try {
      await pushAndFind(client, "tok/app");
      const before = tokens.requests.length;
      await client.headManifest("tok/app", "t1");
      await client.headManifest("tok/app", "t1");
      assert.equal(tokens.requests.length, before);
      assert.deepEqual(new Set(tokens.requests.map((s) => s.join(" "))), new Set(["repository:tok/app:pull,push", "repository:tok/app:pull"]));
    } finally { client.close(); }
  });

  it("fails a wrong password at the token service with unauthenticated naming the user", async () => {
    const client = createRegistryClient(optionsFor(reg, { insecure: true, username, password: new Secret("nope") }), { retry: once });
    try {
      await assert.rejects(client.headManifest("tok/app", "t1"), errorWith("unauthenticated", new RegExp(`^registry "${reg.host}" rejected the credentials of user "robot"$`)));
    } finally { client.close(); }
  });
});

describe("registry client with a token service announcing tokens of one second (expires_in: 1)", () => {
  let reg: TestRegistry;
  let tokens: TokenServer;
  let dir: TempDir;
  const username = "robot";
  const password = "robot-secret-2";
  before(async () => {
    dir = await tempDir();
    tokens = await startTokenServer(dir.path, username, password, 1);
    reg = await startRegistry({
      extraConfig: { auth: { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: tokens.rootCertBundle } } },
    });
  });
  after(async () => { await reg.stop(); await tokens.stop(); await dir.remove(); });

  it("asks the token service again once the token expired", async () => {
    const client = createRegistryClient(optionsFor(reg, { insecure: true, username, password: new Secret(password) }));
    try {
      assert.equal(await client.headManifest("short/app", "t1"), undefined);
      assert.deepEqual(tokens.requests, [["repository:short/app:pull"]]);
      await new Promise((resolve) => setTimeout(resolve, 1100)); // past expires_in, so the cached token is stale
      assert.equal(await client.headManifest("short/app", "t1"), undefined);
      assert.deepEqual(tokens.requests, [["repository:short/app:pull"], ["repository:short/app:pull"]]);
    } finally { client.close(); }
  });
});
