import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createRegistryClient, type RegistryClient } from "../../libs/registry/registry-client.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { bufferBlob, errorWith, ociManifest, optionsFor } from "./fixtures.js";

describe("registry client against a plain-HTTP registry with insecure = true", () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  before(async () => {
    reg = await startRegistry();
    client = createRegistryClient(optionsFor(reg, { insecure: true }), { chunkSize: 1024 });
  });
  after(async () => {
    client.close();
    await reg.stop();
  });

  it("answers a manifest HEAD for a missing tag with undefined", async () => {
    assert.equal(await client.headManifest("cli-none", "0123456789abcdef"), undefined);
  });

  it("uploads small blobs in one PUT and large ones in PATCH chunks, then finds them", async () => {
    const small = bufferBlob(Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'));
    const large = bufferBlob(randomBytes(5000));
    assert.equal(await client.hasBlob("team/cli-a", large.digest), false);
    await client.uploadBlob("team/cli-a", small);
    await client.uploadBlob("team/cli-a", large);
    assert.equal(await client.hasBlob("team/cli-a", small.digest), true);
    assert.equal(await client.hasBlob("team/cli-a", large.digest), true);

    const manifest = ociManifest(small, [large]);
    const digest = await client.putManifest("team/cli-a", "v1", manifest);
    const head = await client.headManifest("team/cli-a", "v1");
    assert.deepEqual(head, { digest, mediaType: manifest.mediaType, size: manifest.body.length });
    const got = await client.getManifest("team/cli-a", digest);
    assert.deepEqual(got?.body, manifest.body);
  });

  it("mounts a blob from another repository instead of uploading it", async () => {
    const blob = bufferBlob(randomBytes(100));
    await client.uploadBlob("src/repo", blob);
    assert.equal(await client.mountBlob("dst/repo", blob.digest, "src/repo"), true);
    assert.equal(await client.hasBlob("dst/repo", blob.digest), true);
  });

  it("reports a mount of an unknown blob as not mounted", async () => {
    const blob = bufferBlob(randomBytes(100));
    assert.equal(await client.mountBlob("dst/repo", blob.digest, "src/repo"), false);
  });

  it("fails a manifest PUT that names a missing blob with the registry's status", async () => {
    const missing = bufferBlob(randomBytes(10));
    await assert.rejects(client.putManifest("team/cli-b", "v1", ociManifest(missing, [])), errorWith("internal", /PUT \/v2\/team\/cli-b\/manifests\/v1 answered 400: expected 201/));
  });

  it("reaches a plain-HTTP registry only when insecure is set", async () => {
    const strict = createRegistryClient(optionsFor(reg), { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    try {
      await assert.rejects(strict.ping(), errorWith("unavailable", new RegExp(`^registry "${reg.host}" is unavailable: GET /v2/: EPROTO`)));
    } finally {
      strict.close();
    }
  });
});
