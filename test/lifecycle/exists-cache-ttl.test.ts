import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { makeAppRepo, removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, runCli, type CliResult } from "../e2e/cli-process.js";
import { startServe, type ServeProcess } from "../rpc/serve-process.js";

const timeout = 240_000;
const buildToken = `build-${randomUUID()}`;

/**
 * `[registry] exists_cache_ttl_secs` reaches the resolver's cache of
 * "exists" answers: an image deleted from the registry outside buildplane
 * (no collection to hear of) is built again at once when the setting is 0,
 * and is still answered from the cache under the default of 10 minutes.
 */
describe("[registry] exists_cache_ttl_secs", { timeout }, () => {
  let dir: TempDir;
  let registry: TestRegistry;
  let repo: Awaited<ReturnType<typeof makeAppRepo>>;
  const servers: ServeProcess[] = [];
  const localNames = new Set<string>();

  before(async () => {
    dir = await tempDir("buildplane-exists-ttl-");
    [registry, repo] = await Promise.all([startRegistry(), makeAppRepo()]);
  });
  after(async () => {
    for (const s of servers) s.kill();
    await Promise.all(servers.map((s) => s.exited));
    await removeImages("docker", localNames);
    await Promise.all([registry?.stop(), repo?.remove()]);
    await dir?.remove();
  });

  async function serve(name: string, ttlSecs: string | undefined): Promise<ServeProcess> {
    const server = await startServe([], cliEnv(join(dir.path, name), {
      BUILDPLANE_REGISTRY_URL: registry.host,
      BUILDPLANE_REGISTRY_INSECURE: "true",
      BUILDPLANE_REGISTRY_PROJECT: name,
      BUILDPLANE_SECURITY_BUILD_TOKEN: buildToken,
      BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path,
      ...(ttlSecs === undefined ? {} : { BUILDPLANE_REGISTRY_EXISTS_CACHE_TTL_SECS: ttlSecs }),
    }));
    servers.push(server);
    return server;
  }

  async function build(server: ServeProcess, app: string): Promise<CliResult> {
    const run = await runCli(
      ["build", repo.url, "--dir", "app", "--app", app, "--json", "--server", server.url],
      cliEnv(join(dir.path, "client"), { BUILDPLANE_TOKEN: buildToken }),
    );
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.last?.type, "ready", describeRun(run));
    const image = String(run.last["image"]);
    localNames.add(image.slice(image.lastIndexOf("/") + 1));
    return run;
  }

  /** Deletes the reference's manifest straight in the registry, as an operator's clean-up script would. */
  async function deleteFromRegistry(reference: string): Promise<void> {
    const rest = reference.slice(registry.host.length + 1);
    const colon = rest.lastIndexOf(":");
    const [name, tag] = [rest.slice(0, colon), rest.slice(colon + 1)];
    const accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";
    const head = await fetch(`${registry.url}/v2/${name}/manifests/${tag}`, { method: "HEAD", headers: { accept } });
    assert.equal(head.status, 200, `HEAD ${reference}`);
    const digest = head.headers.get("docker-content-digest") ?? assert.fail("the registry names no digest");
    const del = await fetch(`${registry.url}/v2/${name}/manifests/${digest}`, { method: "DELETE" });
    assert.equal(del.status, 202, `DELETE ${reference}`);
    const gone = await fetch(`${registry.url}/v2/${name}/manifests/${tag}`, { method: "HEAD", headers: { accept } });
    assert.equal(gone.status, 404, `${reference} is gone from the registry`);
  }

  /** Builds the app, builds it again (now a cached "exists"), deletes the image outside buildplane, and asks once more. */
  async function afterOutsideDeletion(server: ServeProcess, app: string): Promise<CliResult> {
    const built = await build(server, app);
    assert.equal(built.last?.["cached"], false, describeRun(built));
    const again = await build(server, app);
    assert.deepEqual([again.last?.["cached"], again.last?.["image"]], [true, built.last?.["image"]], describeRun(again));
    await deleteFromRegistry(String(built.last?.["image"]));
    return build(server, app);
  }

  it("at 0, an image deleted outside buildplane is built again on the next request", async () => {
    const run = await afterOutsideDeletion(await serve("ttl0", "0"), "ttl-zero");
    assert.equal(run.last?.["cached"], false, `looked up again and built: ${describeRun(run)}`);
    assert.ok(run.events.some((e) => e.type === "started"), describeRun(run));
  });

  it("by default, the cached answer is used until it is 10 minutes old", async () => {
    const run = await afterOutsideDeletion(await serve("ttldefault", undefined), "ttl-default");
    assert.equal(run.last?.["cached"], true, `answered from the cache: ${describeRun(run)}`);
    assert.ok(!run.events.some((e) => e.type === "started"), describeRun(run));
  });

  it("refuses a negative value, naming the key and what is expected", async () => {
    const run = await runCli(["build", repo.url, "--dir", "app", "--json"], cliEnv(join(dir.path, "bad"), { BUILDPLANE_REGISTRY_EXISTS_CACHE_TTL_SECS: "-1" }));
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /registry\.exists_cache_ttl_secs/, describeRun(run));
    assert.match(run.stderr, /-1/, describeRun(run));
  });
});
