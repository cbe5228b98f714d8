import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { formatDiagnostic } from "./config-error.js";
import { validateConfigText } from "./validate-config.js";

const dir = mkdtempSync(join(tmpdir(), "bp-config-rules-"));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
writeFileSync(join(dir, "client.pem"), "cert");
writeFileSync(join(dir, "pw.txt"), "pw\n");
mkdirSync(join(dir, "folder"));
const file = join(dir, "bp.toml");

/** The formatted diagnostics for a text, with the given environment only. */
function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  const result = validateConfigText(text, file, env);
  assert.equal(result.config, undefined, "an invalid config must not resolve");
  return result.diagnostics.map(formatDiagnostic);
}

const withRegistry = '[registry]\nurl = "reg.example.com:5000"\n';

describe("configuration validation rules", () => {
  test("malformed toml is reported with its line and column", () => {
    assert.deepEqual(problems('[builder]\nmode = \nkaniko_cache = true\n'), [`${file}:2:8: malformed toml: invalid value`]);
  });

  test("an unknown section suggests the closest one", () => {
    assert.deepEqual(problems('[http]\nport = 1\n\n[buidler]\nmode = "auto"\n'), [`${file}:4:1: buidler: unknown section [buidler]: did you mean [builder]?`]);
  });

  test("an unknown section with no close match lists the sections", () => {
    assert.match(problems("[zzz]\n")[0] ?? "", /:1:1: zzz: unknown section \[zzz\]: expected one of \[builder\], \[registry\], .*\[git_auth\]$/);
  });

  test("an unknown key suggests the closest one", () => {
    assert.deepEqual(problems('[builder]\n  mdoe = "auto"\n'), [`${file}:2:3: builder.mdoe: unknown key "mdoe" in [builder]: did you mean "mode"?`]);
  });

  test("an unknown key in a git_auth entry suggests the closest one", () => {
    assert.deepEqual(problems('[git_auth.corp]\nuserid = "me"\nhosts = ["git.example.com"]\n'), [
      `${file}:2:1: git_auth.corp.userid: unknown key "userid" in [git_auth.<name>]: did you mean "user_id"?`,
    ]);
  });

  test("a value of the wrong type names what was expected", () => {
    assert.deepEqual(problems('[http]\nport = "80"\nredirect_to_https = "no"\n'), [
      `${file}:2:1: http.port: "80" is not valid: expected an integer`,
      `${file}:3:1: http.redirect_to_https: "no" is not valid: expected true or false`,
    ]);
  });

  test("a secret of the wrong type is reported without its value", () => {
    assert.deepEqual(problems("[registry]\npassword = 12345\n"), [`${file}:2:1: registry.password: the value is not valid: expected a string`]);
  });

  test("an unknown builder mode lists the allowed modes", () => {
    assert.deepEqual(problems('[builder]\nmode = "kanico"\n'), [
      `${file}:2:1: builder.mode: "kanico" is not valid: expected auto, command, kaniko or delegate:<url>[,<url>…]`,
    ]);
  });

  test("a delegate url must be http(s) or openrun+http(s) with a host", () => {
    const env = { BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: "t" };
    assert.deepEqual(problems(`${withRegistry}[builder]\nmode = "delegate:http://b1:25222,ftp://b2"\n`, env), [
      `${file}:4:1: builder.mode: "delegate:http://b1:25222,ftp://b2" has an invalid url "ftp://b2": expected http(s)://host:port or openrun+http(s)://host:port`,
    ]);
  });

  test("a registry url with a scheme is refused", () => {
    assert.deepEqual(problems('[registry]\nurl = "https://reg.example.com"\n'), [
      `${file}:2:1: registry.url: "https://reg.example.com" must not have a scheme: expected host[:port][/path], e.g. "registry.example.com:5000"`,
    ]);
  });

  test("kaniko mode without a registry names the key to set", () => {
    assert.deepEqual(problems('[builder]\nmode = "kaniko"\n'), [
      `${file}:2:1: builder.mode: "kaniko" needs a registry: set [registry] url (or BUILDPLANE_REGISTRY_URL)`,
    ]);
  });

  test("delegate mode without a registry and a token names both keys", () => {
    assert.deepEqual(problems('[builder]\nmode = "delegate:http://b:25222"\n'), [
      `${file}:2:1: builder.mode: "delegate:http://b:25222" needs a registry: set [registry] url (or BUILDPLANE_REGISTRY_URL)`,
      `${file}:2:1: builder.mode: "delegate:http://b:25222" needs a token: set [system] builder_auth_token (or BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN)`,
    ]);
  });

  test("zero and negative limits and out-of-range ports are refused", () => {
    const text = "[system]\nmax_concurrent_builds = 0\n[builder]\nbuild_timeout_secs = -5\n[http]\nport = 70000\n[metadata]\npool_size = 0\n";
    assert.deepEqual(problems(text), [
      `${file}:2:1: system.max_concurrent_builds: 0 is not valid: expected an integer of at least 1`,
      `${file}:4:1: builder.build_timeout_secs: -5 is not valid: expected an integer of at least 1`,
      `${file}:6:1: http.port: 70000 is not valid: expected an integer from 0 to 65535`,
      `${file}:8:1: metadata.pool_size: 0 is not valid: expected an integer of at least 1`,
    ]);
  });

  test("password and password_file together are refused", () => {
    assert.deepEqual(problems(`${withRegistry}password = "x"\npassword_file = "pw.txt"\n`), [
      `${file}:4:1: registry.password_file: set either password or password_file, not both`,
    ]);
  });

  test("an unreadable ca_file is refused with its resolved path", () => {
    assert.deepEqual(problems(`${withRegistry}ca_file = "missing.pem"\n`), [
      `${file}:3:1: registry.ca_file: "${join(dir, "missing.pem")}" cannot be read (ENOENT): expected a readable file`,
    ]);
  });

  test("a folder is not a readable password_file", () => {
    assert.deepEqual(problems(`${withRegistry}password_file = "folder"\n`), [
      `${file}:3:1: registry.password_file: "${join(dir, "folder")}" cannot be read (EISDIR): expected a readable file`,
    ]);
  });

  test("a client certificate without its key is refused", () => {
    assert.deepEqual(problems(`${withRegistry}client_cert_file = "client.pem"\n`), [
      `${file}:3:1: registry.client_cert_file: set both client_cert_file and client_key_file, or neither`,
    ]);
  });

  test("a builder-node client key without its certificate is refused", () => {
    assert.deepEqual(problems('[builder]\nnode_client_key_file = "client.pem"\n'), [
      `${file}:2:1: builder.node_client_key_file: set both node_client_cert_file and node_client_key_file, or neither`,
    ]);
  });

  test("a tls key without its certificate is refused", () => {
    assert.deepEqual(problems('[https]\nkey_file = "client.pem"\n'), [`${file}:2:1: https.key_file: set both cert_file and key_file, or neither`]);
  });

  test("a client ca without a server certificate is refused", () => {
    assert.deepEqual(problems('[https]\nclient_ca_file = "ca.pem"\n'), [`${file}:2:1: https.client_ca_file: client_ca_file needs cert_file and key_file`]);
  });

  test("a registry type other than empty or ecr is refused", () => {
    assert.deepEqual(problems(`${withRegistry}type = "gcr"\n`), [`${file}:3:1: registry.type: "gcr" is not valid: expected "" or "ecr"`]);
  });

  test("a container command must be auto, docker, podman or an absolute path", () => {
    assert.deepEqual(problems('[system]\ncontainer_command = "dokcer"\n'), [
      `${file}:2:1: system.container_command: "dokcer" is not valid: expected auto, docker, podman or an absolute path`,
    ]);
  });

  test("a bad database url is refused without showing its password", () => {
    const out = problems('[metadata]\ndb_connection = "mysql://app:s3cret@db/bp"\n');
    assert.deepEqual(out, [
      `${file}:2:1: metadata.db_connection: "mysql://app:***@db/bp" is not valid: expected sqlite:<path> or postgres://user:password@host:port/db`,
    ]);
    assert.ok(!out.join("").includes("s3cret"));
  });

  test("a service url must be http(s)://host:port", () => {
    assert.deepEqual(problems('[services]\nsource_url = "source:25222"\n'), [
      `${file}:2:1: services.source_url: "source:25222" is not valid: expected http(s)://host:port or empty`,
    ]);
  });

  test("default_git_auth must name a git_auth entry", () => {
    assert.deepEqual(problems('[security]\ndefault_git_auth = "crop"\n[git_auth.corp]\nuser_id = "me"\nhosts = ["git.example.com"]\n'), [
      `${file}:2:1: security.default_git_auth: "crop" is not defined: expected one of [git_auth.corp]`,
    ]);
  });

  test("a git_auth entry without hosts is refused, naming the key to add", () => {
    assert.deepEqual(problems('[git_auth.corp]\nuser_id = "me"\n'), [
      `${file}:1:1: git_auth.corp.hosts: [git_auth.corp] has no hosts, so its credential would go nowhere: set hosts = ["git.example.com"] to the hosts (host or host:port) it may be sent to`,
    ]);
  });

  test("git_auth hosts must be host or host:port", () => {
    assert.deepEqual(problems('[git_auth.corp]\nhosts = ["git.example.com", "git.example.com:8443", "[::1]:2222", "https://git.example.com", "h:99999"]\n'), [
      `${file}:2:1: git_auth.corp.hosts: "https://git.example.com" is not valid: expected host or host:port, e.g. "git.example.com" or "git.example.com:8443"`,
      `${file}:2:1: git_auth.corp.hosts: "h:99999" is not valid: expected host or host:port, e.g. "git.example.com" or "git.example.com:8443"`,
    ]);
  });

  test("a bad environment value names the variable and the key", () => {
    assert.deepEqual(problems("", { BUILDPLANE_HTTP_PORT: "eighty", BUILDPLANE_REGISTRY_INSECURE: "yes" }), [
      'env:BUILDPLANE_HTTP_PORT: http.port: "eighty" is not valid: expected an integer',
      'env:BUILDPLANE_REGISTRY_INSECURE: registry.insecure: "yes" is not valid: expected true or false',
    ]);
  });

  test("a rule broken by an environment value points at the variable", () => {
    assert.deepEqual(problems("", { BUILDPLANE_BUILDER_MODE: "kaniko" }), [
      'env:BUILDPLANE_BUILDER_MODE: builder.mode: "kaniko" needs a registry: set [registry] url (or BUILDPLANE_REGISTRY_URL)',
    ]);
  });

  test("builder.allowed_registries entries must be host[:port], without scheme or path", () => {
    assert.deepEqual(problems('[builder]\nallowed_registries = ["reg.example.com:5000", "https://ghcr.io", "ghcr.io/org"]\n'), [
      `${file}:2:1: builder.allowed_registries: "https://ghcr.io" is not valid: expected a registry host[:port] without scheme or path, e.g. "registry.example.com:5000"`,
      `${file}:2:1: builder.allowed_registries: "ghcr.io/org" is not valid: expected a registry host[:port] without scheme or path, e.g. "registry.example.com:5000"`,
    ]);
  });

  test("every problem is reported at once", () => {
    assert.equal(problems('[builder]\nmode = "x"\n[http]\nport = -1\n[nope]\n').length, 3);
  });
});
