import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RegistryConfig } from "../../libs/config/config-types.js";
import { loadRegistryOptions } from "../../libs/registry/registry-options.js";
import { Secret } from "../../libs/secret/secret.js";
import { resolveRegistryCredentials } from "./registry-credentials.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "bp-registry-credentials-"));
});
after(() => rm(dir, { recursive: true, force: true }));

function registry(extra: Partial<RegistryConfig>): RegistryConfig {
  return { url: "reg.example:5000", project: "team", type: "", username: "u", password: undefined, passwordFile: "", caFile: "", clientCertFile: "", clientKeyFile: "", insecure: false, awsRegion: "", pushCheckTtlSecs: 60, existsCacheTtlSecs: 600, ...extra };
}

describe("registry credentials", () => {
  it("take the password from password_file when password is set but empty, in the config service and the registry client alike", async () => {
    const file = join(dir, "pw");
    await writeFile(file, "  from-file\n");
    const config = registry({ password: new Secret(""), passwordFile: file });
    const served = await resolveRegistryCredentials(config, AbortSignal.timeout(5000));
    const loaded = await loadRegistryOptions(config);
    assert.equal(served?.password?.unwrap(), "from-file");
    assert.equal(loaded.password?.unwrap(), "from-file");
    assert.equal(served?.project, "team");
  });

  it("take password when it is set and not empty", async () => {
    const served = await resolveRegistryCredentials(registry({ password: new Secret("inline") }), AbortSignal.timeout(5000));
    assert.equal(served?.password?.unwrap(), "inline");
  });

  it("refuse a ca_file that holds no certificate with failedPrecondition naming the key, as the registry client does", async () => {
    const file = join(dir, "ca.pem");
    await writeFile(file, "not a certificate");
    await assert.rejects(resolveRegistryCredentials(registry({ caFile: file }), AbortSignal.timeout(5000)), (e: Error & { code?: string }) => {
      assert.equal(e.code, "failedPrecondition");
      assert.equal(e.message, `registry.ca_file ${JSON.stringify(file)} holds no PEM certificate: expected -----BEGIN CERTIFICATE-----`);
      return true;
    });
  });
});
