import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createEngine, type Engine } from "../../libs/engine/engine.js";
import { createSdkEcrTokenClient } from "../../libs/registry/ecr-sdk-client.js";
import { pushImageArchive } from "../../libs/registry/push-image-archive.js";
import { createRegistryClient, type RegistryClient } from "../../libs/registry/registry-client.js";
import { tarContext } from "../engine/engine-fixtures.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { startEcrEndpoint, type EcrEndpoint } from "./ecr-endpoint.js";
import { optionsFor } from "./fixtures.js";

describe("an ecr destination pushes an engine-built image, with the AWS SDK pointed at a GetAuthorizationToken endpoint of the test's own", () => {
  const id = randomBytes(4).toString("hex");
  const localTag = `buildplane-ecr-push/app:${id}`;
  // The registry accepts only user AWS with the password the endpoint's token decodes to.
  const password = `ecr-push-${id}`;
  let engine: Engine;
  let reg: TestRegistry;
  let ecr: EcrEndpoint;
  before(async () => {
    engine = await createEngine({ command: "docker" });
    reg = await startRegistry({ htpasswd: { username: "AWS", password } });
    ecr = await startEcrEndpoint({ username: "AWS", password, expiresInSecs: 12 * 3600 });
    await engine.build(
      {
        context: tarContext({ "Containerfile": `FROM local/busybox:1\nRUN echo 'hello ${id}' > /hello.txt\n` }),
        tag: localTag, dockerfile: "Containerfile", buildArgs: {},
      },
      () => undefined,
      AbortSignal.timeout(120_000),
    );
  });
  after(async () => {
    await engine.removeImage(localTag, { force: true });
    await reg.stop();
    await ecr.stop();
  });

  /** A client of `type = "ecr"` with its own SDK client, as a fresh process would make it. */
  const ecrClient = (): RegistryClient =>
    createRegistryClient(optionsFor(reg, { type: "ecr", insecure: true, username: "", password: undefined, awsRegion: "eu-west-3" }), {
      ecrClient: (region) => createSdkEcrTokenClient({ region, endpoint: ecr.url, credentials: { accessKeyId: "AKIDPUSHTEST", secretAccessKey: "push-test-secret" } }),
    });

  it("pushes with the token as basic credentials and a fresh ecr client finds the digest", async () => {
    ecr.calls.length = 0;
    const client = ecrClient();
    let digest = "";
    try {
      const pushed = await pushImageArchive(client, await engine.exportImage(localTag, AbortSignal.timeout(60_000)), `${reg.host}/ecr/app:${id}`);
      digest = pushed.digest;
      assert.match(digest, /^sha256:[0-9a-f]{64}$/);
      assert.ok(pushed.uploaded >= 2, `uploaded ${pushed.uploaded}`);
    } finally { client.close(); }
    assert.equal(ecr.calls.length, 1, "one token for the whole push");
    assert.equal(ecr.calls[0]?.target, "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
    assert.match(ecr.calls[0]?.authorization ?? "", /\/eu-west-3\/ecr\/aws4_request/);

    const fresh = ecrClient();
    try {
      assert.equal((await fresh.headManifest("ecr/app", id))?.digest, digest);
      assert.equal(await fresh.headManifest("ecr/app", "other"), undefined);
    } finally { fresh.close(); }
    assert.equal(ecr.calls.length, 2, "the fresh client asked for its own token");
  });
});
