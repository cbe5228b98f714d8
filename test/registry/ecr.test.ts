import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createSdkEcrTokenClient } from "../../libs/registry/ecr-sdk-client.js";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { startEcrEndpoint, type EcrEndpoint } from "./ecr-endpoint.js";
import { errorWith, optionsFor } from "./fixtures.js";

describe("ECR auth through the real AWS SDK pointed at a local GetAuthorizationToken endpoint of the test's own", () => {
  const password = "ecr-token-password";
  let reg: TestRegistry;
  let ecr: EcrEndpoint;

  before(async () => {
    reg = await startRegistry({ htpasswd: { username: "AWS", password } });
    ecr = await startEcrEndpoint({ username: "AWS", password, expiresInSecs: 12 * 3600 });
  });
  after(async () => {
    await reg.stop();
    await ecr.stop();
  });

  const sdk = (region: string) => createSdkEcrTokenClient({ region, endpoint: ecr.url, credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" } });

  it("uses the token as basic credentials for aws_region's ECR and reuses it until it expires", async () => {
    ecr.calls.length = 0;
    const regions: string[] = [];
    const client = createRegistryClient(optionsFor(reg, { type: "ecr", insecure: true, username: "", password: undefined, awsRegion: "eu-west-3" }), {
      ecrClient: (region) => { regions.push(region); return sdk(region); },
    });
    try {
      assert.equal(await client.headManifest("ecr/app", "t1"), undefined);
      assert.equal(await client.headManifest("ecr/app", "t2"), undefined);
      assert.deepEqual(regions, ["eu-west-3"]);
      assert.equal(ecr.calls.length, 1);
      assert.equal(ecr.calls[0]?.target, "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
      assert.match(ecr.calls[0]?.authorization ?? "", /\/eu-west-3\/ecr\/aws4_request/);
    } finally { client.close(); }
  });

  it("fails with unauthenticated naming the registry and user AWS when the registry rejects the token", async () => {
    ecr.answerWith({ username: "AWS", password: "stale", expiresInSecs: 3600 });
    const client = createRegistryClient(optionsFor(reg, { type: "ecr", insecure: true, username: "", password: undefined }), {
      ecrClient: sdk, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    try {
      await assert.rejects(client.headManifest("ecr/app", "t1"), errorWith("unauthenticated", new RegExp(`^registry "${reg.host}" rejected the credentials of user "AWS"$`)));
    } finally { client.close(); }
  });
});
