import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createPushPreflight } from "../../libs/registry/push-preflight.js";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { createRegistryClientPool } from "../../libs/registry/registry-client-pool.js";
import { Secret } from "../../libs/secret/secret.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { makeAppRepo } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, runCli } from "../e2e/cli-process.js";
import { optionsFor } from "../registry/fixtures.js";
import { startTokenServer, type TokenServer } from "../registry/token-server.js";
import { startServe, type ServeProcess } from "../rpc/serve-process.js";

const timeout = 300_000;

/**
 * Three registries that refuse a push for three reasons — a wrong password
 * (htpasswd over TLS), an account whose token service grants pull and not
 * push, a TLS certificate from a CA this install does not trust — and one
 * that accepts it. A build against each refusing one ends before any build
 * step with the registry's code, leaves no build record, and `registry
 * check` says the same with exit 1.
 */
describe("registry push check before building", { timeout }, () => {
  let basic: TestRegistry;
  let pullOnly: TestRegistry;
  let unknownCa: TestRegistry;
  let tokens: TokenServer;
  let dir: TempDir;
  let repo: Awaited<ReturnType<typeof makeAppRepo>>;
  const puller = { username: "puller", password: "puller-pass-5c1e" };

  before(async () => {
    dir = await tempDir("buildplane-preflight-");
    tokens = await startTokenServer(dir.path, puller.username, puller.password, 300, ["pull"]);
    [basic, pullOnly, unknownCa, repo] = await Promise.all([
      startRegistry({ tls: true, htpasswd: true }),
      startRegistry({ extraConfig: { auth: { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: tokens.rootCertBundle } } } }),
      startRegistry({ tls: true }),
      makeAppRepo(),
    ]);
  });
  after(async () => {
    await Promise.all([basic?.stop(), pullOnly?.stop(), unknownCa?.stop(), tokens?.stop(), repo?.remove()]);
    await dir?.remove();
  });

  /** A data dir and config file of one case; `toml` is its `[registry]` section body. */
  async function install(name: string, toml: string): Promise<{ dataDir: string; config: string }> {
    const dataDir = join(dir.path, name);
    await mkdir(dataDir, { recursive: true });
    const config = join(dataDir, "buildplane.toml");
    await writeFile(config, `[registry]\n${toml}`);
    return { dataDir, config };
  }

  /** Runs a build, then asserts it failed with `code` before any step and left no build record. */
  async function assertRefusedBeforeBuilding(dataDir: string, config: string, code: string, message: RegExp): Promise<void> {
    const run = await runCli(["build", repo.url, "--dir", "app", "--json", "--config", config], cliEnv(dataDir));
    assert.equal(run.code, 1, describeRun(run));
    assert.deepEqual(run.events.map((e) => e.type), ["failed"], `only a failed event, no step or log line: ${describeRun(run)}`);
    assert.equal(run.last?.["code"], code, describeRun(run));
    assert.match(String(run.last?.["message"]), message);
    const list = await runCli(["builds", "list", "--json", "--config", config], cliEnv(dataDir));
    assert.equal(list.code, 0, describeRun(list));
    assert.deepEqual(JSON.parse(list.stdout), [], "no build record was written");
  }

  it("a pull-only account ends the build with permission_denied naming the registry and the refused push", async () => {
    const { dataDir, config } = await install("pull-only", `url = "${pullOnly.host}"\ninsecure = true\nusername = "${puller.username}"\npassword = "${puller.password}"\n`);
    const host = pullOnly.host.replace(/\./g, "\\.");
    await assertRefusedBeforeBuilding(
      dataDir,
      config,
      "permission_denied",
      new RegExp(`^push check of "${host}/cli-[a-z0-9-]+" failed before building: registry "${host}" denied user "puller" POST /v2/cli-[a-z0-9-]+/blobs/uploads/ \\(its token service grants no repository:cli-[a-z0-9-]+:pull,push\\)$`),
    );
    const check = await runCli(["registry", "check", "--config", config], cliEnv(dataDir));
    assert.equal(check.code, 1, describeRun(check));
    assert.match(check.stderr, new RegExp(`^buildplane: push check of "${host}/cli-push-check" failed before building: registry "${host}" denied user "puller" POST /v2/cli-push-check/blobs/uploads/`));
    assert.doesNotMatch(check.stdout + check.stderr, new RegExp(puller.password));
  });

  it("a wrong password ends the build with unauthenticated naming registry and user, never the password", async () => {
    const wrong = "wrong-password-0b7d";
    const { dataDir, config } = await install("wrong-password", `url = "${basic.host}"\nusername = "${basic.username}"\npassword = "${wrong}"\nca_file = "${basic.caPath}"\n`);
    const host = basic.host.replace(/\./g, "\\.");
    await assertRefusedBeforeBuilding(dataDir, config, "unauthenticated", new RegExp(`registry "${host}" rejected the credentials of user "${basic.username}"$`));
    const check = await runCli(["registry", "check", "--config", config], cliEnv(dataDir));
    assert.equal(check.code, 1, describeRun(check));
    assert.equal(check.stderr, `buildplane: push check of "${basic.host}/cli-push-check" failed before building: registry "${basic.host}" rejected the credentials of user "${basic.username}"\n`);
    assert.doesNotMatch(check.stdout + check.stderr, new RegExp(wrong));
  });

  it("a TLS registry with an unknown CA ends the build with failed_precondition saying the certificate is not trusted", async () => {
    const { dataDir, config } = await install("unknown-ca", `url = "${unknownCa.host}"\n`);
    const host = unknownCa.host.replace(/\./g, "\\.");
    await assertRefusedBeforeBuilding(dataDir, config, "failed_precondition", new RegExp(`registry "${host}" presented a certificate that is not trusted \\(.+\\): set registry.ca_file`));
    const check = await runCli(["registry", "check", "--config", config], cliEnv(dataDir));
    assert.equal(check.code, 1, describeRun(check));
    assert.match(check.stderr, new RegExp(`^buildplane: push check of "${host}/cli-push-check" failed before building: registry "${host}" presented a certificate that is not trusted`));
  });

  it("registry check exits 0 and names the repository when the push would succeed, and 1 without a registry", async () => {
    const { dataDir, config } = await install("good", `url = "${basic.host}"\nproject = "team"\nusername = "${basic.username}"\npassword = "${basic.password}"\nca_file = "${basic.caPath}"\n`);
    const check = await runCli(["registry", "check", "--config", config, "--json"], cliEnv(dataDir));
    assert.equal(check.code, 0, describeRun(check));
    assert.deepEqual(JSON.parse(check.stdout), { ok: true, registry: basic.host, repository: "team/cli-push-check", username: basic.username });
    // The upload was cancelled: the registry holds no upload session and no manifest for the probe.
    const stored = join(basic.dir, "data/docker/registry/v2/repositories/team/cli-push-check");
    // (distribution leaves an empty `hashstates` folder behind a cancelled upload)
    for (const upload of await readdir(join(stored, "_uploads")).catch(() => [])) {
      assert.deepEqual(await readdir(join(stored, "_uploads", upload)), ["hashstates"], "the upload's data and start time are gone");
    }
    assert.deepEqual(await readdir(join(stored, "_manifests")).catch(() => []), []);
    const none = await install("none", "");
    const noRegistry = await runCli(["registry", "check", "--config", none.config], cliEnv(none.dataDir));
    assert.equal(noRegistry.code, 1, describeRun(noRegistry));
    assert.equal(noRegistry.stderr, "buildplane: no registry is configured: set registry.url (images stay in the local engine without one)\n");
  });

  it("registry check --server checks the server's registry with its credentials, for a caller with the build scope", async (t) => {
    const { dataDir, config } = await install("served", `url = "${pullOnly.host}"\ninsecure = true\nusername = "${puller.username}"\npassword = "${puller.password}"\n`);
    const buildToken = "build-token-preflight-7e21";
    const server: ServeProcess = await startServe(["--config", config], cliEnv(dataDir, { BUILDPLANE_SECURITY_BUILD_TOKEN: buildToken }));
    t.after(() => server.kill());
    const refused = await runCli(["registry", "check", "--server", server.url], cliEnv(dataDir, { BUILDPLANE_TOKEN: buildToken }));
    assert.equal(refused.code, 1, describeRun(refused));
    assert.match(refused.stderr, /^buildplane: push check of ".+\/cli-push-check" failed before building: registry ".+" denied user "puller" POST/);
    const anonymous = await runCli(["registry", "check", "--server", server.url], cliEnv(dataDir));
    assert.equal(anonymous.code, 1, describeRun(anonymous));
    assert.equal(anonymous.stderr, "buildplane: missing bearer token\n");
  });

  it("registry check with $BUILDPLANE_SERVER asks the server, which refuses a registry whose CA it does not trust and accepts one it does", async (t) => {
    const buildToken = "build-token-preflight-env-3a90";
    const untrusted = await install("served-unknown-ca", `url = "${unknownCa.host}"\n`);
    const trusted = await install("served-good", `url = "${basic.host}"\nusername = "${basic.username}"\npassword = "${basic.password}"\nca_file = "${basic.caPath}"\n`);
    const [refusing, accepting] = await Promise.all([
      startServe(["--config", untrusted.config], cliEnv(untrusted.dataDir, { BUILDPLANE_SECURITY_BUILD_TOKEN: buildToken })),
      startServe(["--config", trusted.config], cliEnv(trusted.dataDir, { BUILDPLANE_SECURITY_BUILD_TOKEN: buildToken })),
    ]);
    t.after(() => (refusing.kill(), accepting.kill()));
    // The CLI's own data dir holds no configuration at all: only the server's registry is checked.
    const caller = join(dir.path, "caller");
    await mkdir(caller, { recursive: true });
    const refused = await runCli(["registry", "check"], cliEnv(caller, { BUILDPLANE_SERVER: refusing.url, BUILDPLANE_TOKEN: buildToken }));
    assert.equal(refused.code, 1, describeRun(refused));
    const host = unknownCa.host.replace(/\./g, "\\.");
    assert.match(refused.stderr, new RegExp(`^buildplane: push check of "${host}/cli-push-check" failed before building: registry "${host}" presented a certificate that is not trusted \\(.+\\): set registry\\.ca_file`));
    const accepted = await runCli(["registry", "check", "--json"], cliEnv(caller, { BUILDPLANE_SERVER: accepting.url, BUILDPLANE_TOKEN: buildToken }));
    assert.equal(accepted.code, 0, describeRun(accepted));
    assert.deepEqual(JSON.parse(accepted.stdout), { ok: true, registry: basic.host, repository: "cli-push-check", username: basic.username });
    assert.doesNotMatch(accepted.stdout + accepted.stderr, new RegExp(basic.password));
    const badUrl = await runCli(["registry", "check"], cliEnv(caller, { BUILDPLANE_SERVER: "ftp://example" }));
    assert.equal(badUrl.code, 2, describeRun(badUrl));
    assert.equal(badUrl.stderr, `buildplane: $BUILDPLANE_SERVER "ftp://example" is not valid: expected an http:// or https:// URL such as http://127.0.0.1:25222\n`);
  });

  it("trusts a success for the TTL, checks again after it, and never remembers a failure", async () => {
    let calls = 0;
    let clock = 1_000_000;
    const pool = createRegistryClientPool({
      create: (o) => {
        const client = createRegistryClient(o);
        return { ...client, checkPush: (repo, signal) => (calls++, client.checkPush(repo, signal)) };
      },
    });
    try {
      const preflight = createPushPreflight({ pool, ttlMs: () => 60_000, now: () => clock });
      const good = optionsFor(basic);
      await preflight.check(good, "ttl/app", undefined);
      await preflight.check(good, "ttl/app", undefined);
      assert.equal(calls, 1, "the second check within the TTL is answered from the remembered success");
      await preflight.check(good, "ttl/other", undefined);
      assert.equal(calls, 2, "another repository is another destination");
      clock += 60_001;
      await preflight.check(good, "ttl/app", undefined);
      assert.equal(calls, 3, "past the TTL the push is checked again");
      const bad = optionsFor(basic, { password: new Secret("not-the-password") });
      for (let i = 0; i < 2; i++) await assert.rejects(preflight.check(bad, "ttl/app", undefined), { code: "unauthenticated" });
      assert.equal(calls, 5, "a failure is checked again at once");
    } finally {
      pool.close();
    }
  });
});
