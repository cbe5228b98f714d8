import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import Docker from "dockerode";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { pushImageArchive } from "../../libs/registry/push-image-archive.js";
import { Secret } from "../../libs/secret/secret.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { runCommand } from "../helpers/run-command.js";
import { buildTestImage, removeImage } from "./engine-image.js";
import { startFailingProxy } from "./failing-proxy.js";
import { optionsFor } from "./fixtures.js";
import { startTokenServer } from "./token-server.js";
import { tempDir } from "../helpers/temp-dir.js";
import { defaultTempRoot } from "../../libs/temp/owned-temp.js";

const run = promisify(execFile);
const docker = new Docker();

async function exportImage(ref: string): Promise<Readable> {
  return (await docker.getImage(ref).get()) as unknown as Readable;
}

// Spool folders are made under os.tmpdir(): give this file a folder of its
// own, so the spools of other test files running at the same time never mix in.
const privateTmp = mkdtempSync(join(tmpdir(), "push-archive-test-"));
process.env["TMPDIR"] = privateTmp;
after(() => rmSync(privateTmp, { recursive: true, force: true }));

/** Spool folders in the private temp root, and anything named like a spool directly in the temp folder. */
async function spoolDirs(): Promise<string[]> {
  const top = (await readdir(tmpdir())).filter((n) => n.startsWith("buildplane-push-"));
  const owned = await readdir(defaultTempRoot()).catch(() => [] as string[]);
  return [...top, ...owned.filter((n) => n.startsWith("push@"))];
}

async function findFromFreshProcess(reg: TestRegistry, reference: string, extra: { insecure?: boolean; client?: boolean } = {}): Promise<string> {
  const input = JSON.stringify({
    url: reg.host, insecure: extra.insecure === true, username: reg.username, password: reg.password, caPem: reg.caPem,
    clientCertPem: extra.client === true ? reg.clientCertPem : "", clientKeyPem: extra.client === true ? reg.clientKeyPem : "", reference,
  });
  const out = await runCommand(process.execPath, ["--import", "tsx", "test/registry/find-image-process.ts"], { input });
  return out.stdout;
}

describe("pushing an image exported from the Docker engine", () => {
  const id = randomBytes(4).toString("hex");
  const localTag = `cli-push-test-${id}:1`;
  const removers: Array<() => Promise<void>> = [];
  let plain: TestRegistry;
  before(async () => {
    plain = await startRegistry();
    removers.push(await buildTestImage(docker, localTag, `hello ${id}`));
  });
  after(async () => {
    for (const r of removers) await r();
    await plain.stop();
  });

  it("pushes to a plain-HTTP registry; docker pulls it back and runs it; a second push uploads no layer", async () => {
    const spoolsBefore = await spoolDirs();
    const proxy = await startFailingProxy(plain.host, 0);
    const client = createRegistryClient(optionsFor(plain, { url: proxy.host, insecure: true }));
    try {
      const reference = `${proxy.host}/apps/cli-push-test:${id}`;
      const first = await pushImageArchive(client, await exportImage(localTag), reference);
      assert.match(first.digest, /^sha256:[0-9a-f]{64}$/);
      assert.ok(first.uploaded >= 2, `uploaded ${first.uploaded}`);
      assert.equal((await client.headManifest("apps/cli-push-test", id))?.digest, first.digest);

      const pulled = `${plain.host}/apps/cli-push-test:${id}`;
      removers.push(() => removeImage(docker, pulled));
      await run("docker", ["pull", pulled]);
      const { stdout } = await run("docker", ["run", "--rm", pulled]);
      assert.equal(stdout.trim(), `hello ${id}`);

      proxy.seen.length = 0;
      const second = await pushImageArchive(client, await exportImage(localTag), reference);
      assert.equal(second.digest, first.digest);
      assert.equal(second.uploaded, 0);
      assert.deepEqual(proxy.seen.filter((s) => !s.startsWith("HEAD ")), [`PUT /v2/apps/cli-push-test/manifests/${id}`]);
      assert.deepEqual(await spoolDirs(), spoolsBefore);
    } finally { client.close(); await proxy.stop(); }
  });

  it("removes its spool folder when the archive is not a docker save tarball", async () => {
    const spoolsBefore = await spoolDirs();
    const client = createRegistryClient(optionsFor(plain, { insecure: true }));
    try {
      const { Readable } = await import("node:stream");
      const { pack } = await import("tar-stream");
      const bogus = pack();
      bogus.entry({ name: "hello.txt" }, "hi");
      bogus.finalize();
      await assert.rejects(pushImageArchive(client, Readable.from(bogus), `${plain.host}/x/y:1`), (err: unknown) => {
        const e = err as { code?: string; message?: string };
        assert.equal(e.code, "internal");
        assert.equal(e.message, "image archive from the engine is not usable: manifest.json is missing: expected docker save output");
        return true;
      });
      assert.deepEqual(await spoolDirs(), spoolsBefore);
    } finally { client.close(); }
  });

  it("pushes to a registry in token auth mode (a token server of the test's own) and a fresh process finds it", async () => {
    const dir = await tempDir();
    const tokens = await startTokenServer(dir.path, "robot", "robot-pw-7");
    const reg = await startRegistry({
      extraConfig: { auth: { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: tokens.rootCertBundle } } },
    });
    const withCreds = { ...reg, username: "robot", password: "robot-pw-7" };
    const client = createRegistryClient(optionsFor(withCreds, { insecure: true }));
    try {
      const reference = `${reg.host}/team/cli-push-test:${id}`;
      const pushed = await pushImageArchive(client, await exportImage(localTag), reference);
      assert.equal(await findFromFreshProcess(withCreds, reference, { insecure: true }), pushed.digest);
    } finally { client.close(); await reg.stop(); await tokens.stop(); await dir.remove(); }
  });

  for (const kind of ["TLS with htpasswd basic auth", "a required client certificate"] as const) {
    it(`pushes to a registry with ${kind} and a fresh process finds it`, async () => {
      const reg = await startRegistry(kind === "TLS with htpasswd basic auth" ? { tls: true, htpasswd: true } : { clientCa: true });
      const mtls = kind === "a required client certificate";
      const client = createRegistryClient(optionsFor(reg, mtls ? { clientCertPem: reg.clientCertPem, clientKeyPem: new Secret(reg.clientKeyPem) } : {}));
      try {
        const reference = `${reg.host}/team/cli-push-test:${id}`;
        const pushed = await pushImageArchive(client, await exportImage(localTag), reference);
        assert.equal(await findFromFreshProcess(reg, reference, { client: mtls }), pushed.digest);
        assert.equal(await findFromFreshProcess(reg, `${reg.host}/team/cli-push-test:other`, { client: mtls }), "missing");
      } finally { client.close(); await reg.stop(); }
    });
  }
});
