import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Secret } from "../secret/secret.js";
import { ConfigError } from "./config-error.js";
import { findConfigFile, loadConfig } from "./load-config.js";

const dir = mkdtempSync(join(tmpdir(), "bp-load-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function write(text: string): string {
  const f = join(dir, `c${n++}.toml`);
  writeFileSync(f, text);
  return f;
}
const home = { HOME: "/home/someone" };

/** The builder-node config of the seed, verbatim. */
const seedBuilderNode = `[http]
host = "0.0.0.0" # bind to all interfaces
redirect_to_https = false
[system]
container_command = "docker"
[security]
admin_over_tcp = true`;

/** The main-install addition of the seed, verbatim. */
const seedMainInstall = `[builder]
mode = "delegate:http://mybuilder.example.com:25222"`;

describe("loadConfig", () => {
  test("an empty file is a working single-node install with every default", () => {
    const f = write("");
    const c = loadConfig({ file: f, env: home });
    assert.equal(c.sourceFile, f);
    assert.deepEqual(c.builder.mode, { kind: "auto" });
    assert.equal(c.builder.buildTimeoutSecs, 1800);
    assert.equal(c.builder.maxUploadBytes, 2 * 1024 ** 3);
    assert.equal(c.registry.url, "");
    assert.equal(c.system.dataDir, "/home/someone/.buildplane");
    assert.equal(c.system.containerCommand, "auto");
    assert.equal(c.system.maxConcurrentBuilds, 1);
    assert.equal(c.system.maxBuildWaitSecs, 120);
    assert.equal(c.system.gitOperationTimeoutSecs, 600);
    assert.equal(c.system.maxLogLinesPerBuild, 100000);
    assert.equal(c.system.builderAuthToken, undefined);
    assert.deepEqual({ ...c.http }, { host: "127.0.0.1", port: 25222, redirectToHttps: false, maxMessageBytes: 8388608, headersTimeoutSecs: 30, idleTimeoutSecs: 600, streamKeepaliveSecs: 20 });
    assert.equal(c.metadata.dbConnection.unwrap(), "sqlite:/home/someone/.buildplane/buildplane.db");
    assert.equal(c.metadata.poolSize, 10);
    assert.equal(c.kubernetes.namespace, "buildplane");
    assert.deepEqual(c.gitAuth, {});
  });

  test("no file gives the defaults with no source file", () => {
    const c = loadConfig({ env: home });
    assert.equal(c.sourceFile, undefined);
    assert.equal(c.http.port, 25222);
  });

  test("the resolved config is frozen all the way down", () => {
    const c = loadConfig({ env: home });
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.builder) && Object.isFrozen(c.builder.mode));
    assert.throws(() => {
      (c.http as { port: number }).port = 1;
    }, TypeError);
  });

  test("environment overrides win over the file and are typed by the schema", () => {
    const f = write('[http]\nport = 9000\nhost = "0.0.0.0"\n');
    const c = loadConfig({
      file: f,
      env: { ...home, BUILDPLANE_HTTP_PORT: "8080", BUILDPLANE_SYSTEM_DATA_DIR: "/srv/bp", BUILDPLANE_REGISTRY_INSECURE: "true" },
    });
    assert.equal(c.http.port, 8080);
    assert.equal(c.http.host, "0.0.0.0");
    assert.equal(c.system.dataDir, "/srv/bp");
    assert.equal(c.registry.insecure, true);
    assert.equal(c.metadata.dbConnection.unwrap(), "sqlite:/srv/bp/buildplane.db");
  });

  test("a bad environment value fails the load naming the variable", () => {
    assert.throws(
      () => loadConfig({ env: { ...home, BUILDPLANE_SYSTEM_MAX_CONCURRENT_BUILDS: "0" } }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === "invalidArgument" &&
        err.message === "env:BUILDPLANE_SYSTEM_MAX_CONCURRENT_BUILDS: system.max_concurrent_builds: 0 is not valid: expected an integer of at least 1",
    );
  });

  test("the seed's builder-node config loads unchanged", () => {
    const c = loadConfig({ file: write(seedBuilderNode), env: home });
    assert.equal(c.http.host, "0.0.0.0");
    assert.equal(c.http.redirectToHttps, false);
    assert.equal(c.system.containerCommand, "docker");
    assert.equal(c.security.adminOverTcp, true);
  });

  test("the seed's main-install config loads unchanged with the registry and token from the environment", () => {
    const c = loadConfig({
      file: write(seedMainInstall),
      env: { ...home, BUILDPLANE_REGISTRY_URL: "registry.example.com:5000", BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: "tok" },
    });
    assert.deepEqual(c.builder.mode, { kind: "delegate", urls: ["http://mybuilder.example.com:25222"] });
    assert.equal(c.builder.modeText, "delegate:http://mybuilder.example.com:25222");
    assert.equal(c.registry.url, "registry.example.com:5000");
    assert.equal(c.system.builderAuthToken?.unwrap(), "tok");
  });

  test("the seed's main-install config alone is refused with both fixes named", () => {
    const f = write(seedMainInstall);
    assert.throws(
      () => loadConfig({ file: f, env: home }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === "invalidArgument" &&
        err.diagnostics.length === 2 &&
        err.message ===
          `${f}:2:1: builder.mode: "delegate:http://mybuilder.example.com:25222" needs a registry: set [registry] url (or BUILDPLANE_REGISTRY_URL)\n` +
            `${f}:2:1: builder.mode: "delegate:http://mybuilder.example.com:25222" needs a token: set [system] builder_auth_token (or BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN)`,
    );
  });

  test("several delegate urls, openrun builder nodes and the unsafe_admin_over_tcp spelling are accepted", () => {
    const f = write(`[builder]
mode = "delegate:http://b1:25222, openrun+https://b2:25223/"
[registry]
url = "reg.example.com:5000/"
type = "ECR"
[system]
builder_auth_token = "tok"
container_builder = "x"
[security]
unsafe_admin_over_tcp = true
allowed_container_args = { add-host = "regex:.*" }
[https]
port = 25223
`);
    const c = loadConfig({ file: f, env: home });
    assert.deepEqual(c.builder.mode, { kind: "delegate", urls: ["http://b1:25222", "openrun+https://b2:25223"] });
    assert.equal(c.registry.url, "reg.example.com:5000");
    assert.equal(c.registry.type, "ecr");
    assert.equal(c.security.adminOverTcp, true);
  });

  test("secrets are Secret values and relative paths resolve against the file's folder", () => {
    mkdirSync(join(dir, "keys"), { recursive: true });
    writeFileSync(join(dir, "keys", "id"), "key");
    writeFileSync(join(dir, "keys", "pw"), "pw");
    const f = write(`[registry]
url = "reg:5000"
username = "u"
password_file = "keys/pw"
[metadata]
db_connection = "postgres://app:s3cret@db:5432/bp"
[git_auth.corp]
user_id = "me"
password = "hunter2"
key_file_path = "keys/id"
private_key = "-----BEGIN KEY-----"
hosts = ["Git.Example.com", "git.example.com:8443"]
[security]
default_git_auth = "corp"
`);
    const c = loadConfig({ file: f, env: home });
    assert.equal(c.registry.passwordFile, join(dir, "keys", "pw"));
    assert.ok(c.metadata.dbConnection instanceof Secret);
    assert.equal(c.metadata.dbConnection.unwrap(), "postgres://app:s3cret@db:5432/bp");
    const corp = c.gitAuth["corp"];
    assert.equal(corp?.keyFilePath, join(dir, "keys", "id"));
    assert.equal(corp?.password?.unwrap(), "hunter2");
    assert.equal(String(corp?.privateKey), "***");
    assert.deepEqual(corp?.hosts, ["git.example.com", "git.example.com:8443"]);
    assert.ok(!JSON.stringify(c).includes("hunter2") && !JSON.stringify(c).includes("s3cret"));
  });

  test("a missing configuration file is a config error naming the file", () => {
    const f = join(dir, "absent.toml");
    assert.throws(
      () => loadConfig({ file: f, env: home }),
      (err: unknown) => err instanceof ConfigError && err.code === "invalidArgument" && err.message === `${f}: cannot read the configuration file (ENOENT)`,
    );
  });
});

describe("findConfigFile", () => {
  test("BUILDPLANE_CONFIG names the file", () => {
    assert.equal(findConfigFile({ BUILDPLANE_CONFIG: "/etc/bp.toml" }), "/etc/bp.toml");
  });

  test("buildplane.toml in the data folder is used when it exists", () => {
    const data = mkdtempSync(join(dir, "data-"));
    assert.equal(findConfigFile({ BUILDPLANE_SYSTEM_DATA_DIR: data }), undefined);
    writeFileSync(join(data, "buildplane.toml"), "");
    assert.equal(findConfigFile({ BUILDPLANE_SYSTEM_DATA_DIR: data }), join(data, "buildplane.toml"));
  });
});
