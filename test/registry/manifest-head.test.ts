import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { mediaTypes } from "../../libs/registry/media-types.js";
import { createRegistryClient, type RegistryClient } from "../../libs/registry/registry-client.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { optionsFor } from "./fixtures.js";

describe("manifest HEAD of images the registry got from docker push and of an index", () => {
  const tag = randomBytes(4).toString("hex");
  const repo = "pushed/busybox";
  let reg: TestRegistry;
  let client: RegistryClient;
  let reference: string;
  let pushed: { digest: string; size: number };
  before(async () => {
    reg = await startRegistry();
    client = createRegistryClient(optionsFor(reg, { insecure: true }));
    reference = `${reg.host}/${repo}:${tag}`;
    await runCommand("docker", ["tag", "local/busybox:1", reference]);
    // docker trusts plain HTTP on 127.0.0.0/8; its last line is "<tag>: digest: sha256:… size: N".
    const out = await runCommand("docker", ["push", reference]);
    const m = /digest: (sha256:[0-9a-f]{64}) size: ([0-9]+)/.exec(out.stdout);
    assert.ok(m?.[1] !== undefined && m[2] !== undefined, `docker push printed no digest: ${out.stdout}`);
    pushed = { digest: m[1], size: Number(m[2]) };
  });
  after(async () => {
    client.close();
    await runCommand("docker", ["rmi", reference]).catch(() => undefined);
    await reg.stop();
  });

  it("finds a docker push under its tag with the digest, size and schema 2 media type docker reported", async () => {
    assert.deepEqual(await client.headManifest(repo, tag), { digest: pushed.digest, mediaType: mediaTypes.dockerManifest, size: pushed.size });
  });

  it("finds it by digest too, and its GET body hashes to that digest", async () => {
    assert.equal((await client.headManifest(repo, pushed.digest))?.digest, pushed.digest);
    const got = await client.getManifest(repo, pushed.digest);
    assert.equal(`sha256:${createHash("sha256").update(got?.body ?? Buffer.alloc(0)).digest("hex")}`, pushed.digest);
  });

  it("finds an OCI index put over the pushed manifest under its own digest and media type", async () => {
    const body = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociIndex,
      manifests: [{ mediaType: mediaTypes.dockerManifest, digest: pushed.digest, size: pushed.size, platform: { architecture: "amd64", os: "linux" } }],
    }));
    const digest = await client.putManifest(repo, `${tag}-index`, { mediaType: mediaTypes.ociIndex, body });
    assert.equal(digest, `sha256:${createHash("sha256").update(body).digest("hex")}`);
    assert.deepEqual(await client.headManifest(repo, `${tag}-index`), { digest, mediaType: mediaTypes.ociIndex, size: body.length });
    assert.equal((await client.headManifest(repo, digest))?.digest, digest);
    // The tag of the image itself still names the image, not the index.
    assert.equal((await client.headManifest(repo, tag))?.digest, pushed.digest);
  });
});
