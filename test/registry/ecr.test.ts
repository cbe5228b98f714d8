import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { createSdkEcrTokenClient } from "../../libs/registry/ecr-sdk-client.js";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { errorWith, optionsFor } from "./fixtures.js";

describe("ECR auth through the real AWS SDK pointed at a local GetAuthorizationToken endpoint of the test's own", () => {
  const password = "ecr-token-password";
  let reg: TestRegistry;
  let server: Server;
  let endpoint: string;
  const calls: Array<{ target: string; authorization: string }> = [];
  let answer: () => object;

  before(async () => {
    reg = await startRegistry({ htpasswd: { username: "AWS", password } });
    answer = () => ({
      authorizationData: [{
        authorizationToken: Buffer.from(`AWS:${password}`).toString("base64"),
        expiresAt: Date.now() / 1000 + 12 * 3600,
        proxyEndpoint: `https://${reg.host}`,
      }],
    });
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        calls.push({ target: String(req.headers["x-amz-target"]), authorization: String(req.headers.authorization) });
        res.writeHead(200, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify(answer()));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
  });
  after(async () => {
    await reg.stop();
    await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
  });

  const sdk = (region: string) => createSdkEcrTokenClient({ region, endpoint, credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" } });

  it("uses the token as basic credentials for aws_region's ECR and reuses it until it expires", async () => {
    calls.length = 0;
    const regions: string[] = [];
    const client = createRegistryClient(optionsFor(reg, { type: "ecr", insecure: true, username: "", password: undefined, awsRegion: "eu-west-3" }), {
      ecrClient: (region) => { regions.push(region); return sdk(region); },
    });
    try {
      assert.equal(await client.headManifest("ecr/app", "t1"), undefined);
      assert.equal(await client.headManifest("ecr/app", "t2"), undefined);
      assert.deepEqual(regions, ["eu-west-3"]);
      assert.equal(calls.length, 1);
      assert.equal(calls[0]?.target, "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
      assert.match(calls[0]?.authorization ?? "", /\/eu-west-3\/ecr\/aws4_request/);
    } finally { client.close(); }
  });

  it("fails with unauthenticated naming the registry and user AWS when the registry rejects the token", async () => {
    answer = () => ({ authorizationData: [{ authorizationToken: Buffer.from("AWS:stale").toString("base64"), expiresAt: Date.now() / 1000 + 3600 }] });
    const client = createRegistryClient(optionsFor(reg, { type: "ecr", insecure: true, username: "", password: undefined }), {
      ecrClient: sdk, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    try {
      await assert.rejects(client.headManifest("ecr/app", "t1"), errorWith("unauthenticated", new RegExp(`^registry "${reg.host}" rejected the credentials of user "AWS"$`)));
    } finally { client.close(); }
  });
});
