import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort } from "../helpers/free-port.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { imageExists, makeAppRepo, removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, runCli, type CliResult } from "../e2e/cli-process.js";
import { testDialects, type TestDatabase } from "../metadata/test-databases.js";
import { startServe, type ServeProcess } from "../rpc/serve-process.js";

const timeout = 240_000;
const buildToken = `build-${randomUUID()}`;
const adminToken = `admin-${randomUUID()}`;
const servicesToken = `services-${randomUUID()}`;

/**
 * Garbage collection in a split install on Postgres: the resolver runs in a
 * process of its own and talks to a metadata replica; collection runs in
 * another process, through that process's own metadata service on the same
 * database. The resolver had cached "exists" for an image; once collected,
 * asking for that image again builds it again, with no restart of the
 * resolver: the replica it watches heard of the collection made elsewhere.
 */
describe("garbage collection with the resolver and a metadata replica in separate processes", { timeout }, () => {
  let dir: TempDir;
  let db: TestDatabase;
  let registry: TestRegistry;
  let repo: Awaited<ReturnType<typeof makeAppRepo>>;
  let core: ServeProcess | undefined;
  let resolver: ServeProcess | undefined;
  let replica: ServeProcess | undefined;
  const localNames = new Set<string>();

  before(async () => {
    dir = await tempDir("buildplane-split-gc-");
    const postgres = testDialects.find((d) => d.name === "postgres");
    if (!postgres) throw new Error("the postgres test dialect is missing");
    [registry, repo, db] = await Promise.all([startRegistry(), makeAppRepo(), postgres.create()]);
    const [corePort, resolverPort, replicaPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const at = (port: number): string => `http://127.0.0.1:${port}`;
    const env = (name: string, metadataPort = corePort): NodeJS.ProcessEnv =>
      cliEnv(join(dir.path, name), {
        BUILDPLANE_METADATA_DB_CONNECTION: db.dbConnection,
        BUILDPLANE_REGISTRY_URL: registry.host,
        BUILDPLANE_REGISTRY_INSECURE: "true",
        BUILDPLANE_SERVICES_TOKEN: servicesToken,
        BUILDPLANE_SERVICES_CONFIG_URL: at(corePort),
        BUILDPLANE_SERVICES_METADATA_URL: at(metadataPort),
        BUILDPLANE_SERVICES_SOURCE_URL: at(corePort),
        BUILDPLANE_SERVICES_BUILDER_URL: at(corePort),
        BUILDPLANE_SERVICES_LIFECYCLE_URL: at(corePort),
        BUILDPLANE_SERVICES_RESOLVER_URL: at(resolverPort),
        BUILDPLANE_SECURITY_BUILD_TOKEN: buildToken,
        BUILDPLANE_SECURITY_ADMIN_TOKEN: adminToken,
        BUILDPLANE_SECURITY_ADMIN_OVER_TCP: "true",
        BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: `node-${servicesToken}`,
        BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path,
      });
    core = await startServe(["--services", "config,metadata,source,builder,lifecycle", "--port", String(corePort)], env("core"));
    replica = await startServe(["--services", "metadata", "--port", String(replicaPort)], env("replica"));
    resolver = await startServe(["--services", "resolver", "--port", String(resolverPort)], env("resolver", replicaPort));
  });
  after(async () => {
    for (const p of [core, replica, resolver]) p?.kill();
    await Promise.all([core?.exited, replica?.exited, resolver?.exited]);
    await db?.drop();
    await removeImages("docker", localNames);
    await Promise.all([registry?.stop(), repo?.remove()]);
    await dir?.remove();
  });

  async function build(commit: string): Promise<CliResult> {
    const run = await runCli(
      ["build", repo.url, "--dir", "app", "--app", "split-gc", "--ref", commit, "--json", "--server", resolver?.url ?? ""],
      cliEnv(join(dir.path, "client"), { BUILDPLANE_TOKEN: buildToken }),
    );
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.last?.type, "ready", describeRun(run));
    const image = String(run.last["image"]);
    localNames.add(image.slice(image.lastIndexOf("/") + 1));
    return run;
  }

  /** Whether the registry still serves the reference's manifest. */
  async function inRegistry(reference: string): Promise<boolean> {
    const rest = reference.slice(registry.host.length + 1);
    const colon = rest.lastIndexOf(":");
    const res = await fetch(`${registry.url}/v2/${rest.slice(0, colon)}/manifests/${rest.slice(colon + 1)}`, {
      method: "HEAD",
      headers: { accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json" },
    });
    if (res.status !== 200 && res.status !== 404) assert.fail(`HEAD ${reference} answered ${res.status}`);
    return res.status === 200;
  }

  it("builds a collected image again although the resolver had cached that it exists", async () => {
    const first = repo.commit;
    const built = await build(first);
    assert.equal(built.last?.["cached"], false, describeRun(built));
    const image = String(built.last?.["image"]);
    const cachedRun = await build(first);
    assert.deepEqual([cachedRun.last?.["cached"], cachedRun.last?.["image"]], [true, image], "the resolver now holds a cached exists answer");
    const second = await repo.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo second-${repo.nonce}\n` });
    const newer = await build(second);
    assert.notEqual(newer.last?.["image"], image);

    const gc = await runCli(["gc", "--app", "split-gc", "--keep", "1", "--json", "--server", core?.url ?? ""], cliEnv(join(dir.path, "client"), { BUILDPLANE_TOKEN: adminToken }));
    assert.equal(gc.code, 0, describeRun(gc));
    const collected = JSON.parse(gc.stdout) as { images: { image: string; registryDeleted: boolean; error: string }[] };
    assert.deepEqual(collected.images.map((i) => [i.image, i.registryDeleted, i.error]), [[image, true, ""]]);
    assert.equal(await inRegistry(image), false, "the registry no longer serves the collected image");

    const again = await build(first);
    assert.equal(again.last?.["cached"], false, `a collected image is built again: ${describeRun(again)}`);
    assert.equal(again.last?.["image"], image, "same inputs, same name");
    assert.notEqual(again.last?.["buildId"], built.last?.["buildId"], "a new build record");
    assert.ok(again.events.some((e) => e.type === "started"), describeRun(again));
    assert.equal(await inRegistry(image), true, "the rebuilt image is pushed again");
    assert.equal(await imageExists("docker", image.slice(image.lastIndexOf("/") + 1)), true);
  });
});
