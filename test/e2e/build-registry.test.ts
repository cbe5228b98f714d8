import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { describe, it } from "node:test";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir } from "../helpers/temp-dir.js";
import { imageExists, makeAppRepo, removeImages } from "./app-fixture.js";
import { cliEnv, describeRun, runCli, type CliResult } from "./cli-process.js";

/** The status of `HEAD /v2/<path>/manifests/<tag>` for a qualified reference. */
function manifestStatus(registry: TestRegistry, reference: string): Promise<number> {
  const rest = reference.slice(registry.host.length + 1);
  const colon = rest.lastIndexOf(":");
  const url = `${registry.url}/v2/${rest.slice(0, colon)}/manifests/${rest.slice(colon + 1)}`;
  const headers = {
    accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
    ...(registry.username ? { authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString("base64")}` } : {}),
  };
  if (registry.caPem === "") return fetch(url, { method: "HEAD", headers }).then((r) => r.status);
  return new Promise((res, rej) => {
    const req = request(url, { method: "HEAD", headers, ca: registry.caPem }, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    });
    req.on("error", rej);
    req.end();
  });
}

/** Checks a first build that pushed, then a second process with its own data dir that finds the image there. */
async function assertPushedThenFound(registry: TestRegistry, prefix: string, first: CliResult, second: CliResult): Promise<string> {
  assert.equal(first.code, 0, describeRun(first));
  const ready = first.last;
  assert.equal(ready?.type, "ready", describeRun(first));
  assert.equal(ready["cached"], false);
  const image = String(ready["image"]);
  assert.ok(image.startsWith(`${registry.host}/${prefix}cli-`), `ready names the qualified reference, got ${image}`);
  const pushed = first.events.find((e) => e.type === "pushed");
  assert.equal(pushed?.["reference"], image);
  assert.match(String(ready["digest"]), /^sha256:[0-9a-f]{64}$/);
  assert.equal(pushed["digest"], ready["digest"], "ready carries the pushed manifest digest");
  assert.equal(await manifestStatus(registry, image), 200);

  assert.equal(second.code, 0, describeRun(second));
  assert.deepEqual(second.events, [{ type: "ready", image, digest: ready["digest"], cached: true, buildId: "" }]);
  return image;
}

describe("buildplane build with a registry", () => {
  it("pushes to a plain insecure registry and another process with a fresh data dir finds the image there", async (t) => {
    const registry = await startRegistry();
    const repo = await makeAppRepo();
    const a = await tempDir("buildplane-e2e-data-");
    const b = await tempDir("buildplane-e2e-data-");
    const local: string[] = [];
    t.after(async () => {
      await removeImages("docker", local);
      await registry.stop();
      await repo.remove();
      await a.remove();
      await b.remove();
    });
    const extra = { BUILDPLANE_REGISTRY_URL: registry.host, BUILDPLANE_REGISTRY_INSECURE: "true" };
    const args = ["build", repo.url, "--dir", "app", "--json"];
    const first = await runCli(args, cliEnv(a.path, extra));
    const image = String(first.last?.["image"] ?? "");
    local.push(image.slice(registry.host.length + 1), image);
    assert.ok(await imageExists("docker", image.slice(registry.host.length + 1)), "the local image is kept after the push");
    const second = await runCli(args, cliEnv(b.path, extra));
    await assertPushedThenFound(registry, "", first, second);
  });

  it("pushes to a TLS registry with htpasswd auth configured by file (ca_file, username, password_file)", async (t) => {
    const registry = await startRegistry({ tls: true, htpasswd: true });
    const repo = await makeAppRepo();
    const a = await tempDir("buildplane-e2e-data-");
    const b = await tempDir("buildplane-e2e-data-");
    const local: string[] = [];
    t.after(async () => {
      await removeImages("docker", local);
      await registry.stop();
      await repo.remove();
      await a.remove();
      await b.remove();
    });
    const passwordFile = join(a.path, "registry-password");
    await writeFile(passwordFile, `${registry.password}\n`, { mode: 0o600 });
    const config = join(a.path, "buildplane.toml");
    await writeFile(
      config,
      `[registry]\nurl = "${registry.host}"\nproject = "team"\nusername = "${registry.username}"\npassword_file = "${passwordFile}"\nca_file = "${registry.caPath}"\n`,
    );
    const args = ["build", repo.url, "--dir", "app", "--json", "--config", config];
    const first = await runCli(args, cliEnv(a.path));
    const image = String(first.last?.["image"] ?? "");
    local.push(image.slice(image.lastIndexOf("/") + 1), image);
    const second = await runCli(args, cliEnv(b.path));
    await assertPushedThenFound(registry, "team/", first, second);
    assert.doesNotMatch(first.stdout + first.stderr + second.stdout + second.stderr, new RegExp(registry.password));
  });
});
