import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createEcrCredentials, ecrRegion, EcrAuthError, type EcrTokenClient } from "./ecr-credentials.js";

describe("ecrRegion", () => {
  const table: Array<[string, string, string]> = [
    ["123456789012.dkr.ecr.eu-west-3.amazonaws.com", "", "eu-west-3"],
    ["123456789012.dkr.ecr.eu-west-3.amazonaws.com", "us-west-2", "eu-west-3"],
    ["123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "", "us-gov-west-1"],
    ["123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn:443", "", "cn-north-1"],
    ["12345.dkr.ecr.eu-west-3.amazonaws.com", "ap-south-1", "ap-south-1"],
    ["registry.example.com", "ap-south-1", "ap-south-1"],
    ["registry.example.com", "", "us-east-1"],
  ];
  for (const [host, fallback, expected] of table) {
    it(`gives ${expected} for ${host} with aws_region ${JSON.stringify(fallback)}`, () => {
      assert.equal(ecrRegion(host, fallback), expected);
    });
  }
});

// ECR itself is unreachable from tests, so these cases drive the cache with a
// fake token client; test/registry/ecr.test.ts runs the real AWS SDK against
// a local GetAuthorizationToken endpoint.
describe("ECR credentials (with a fake token client)", () => {
  function fakeClient(answers: Array<{ token: string; expiresAt: Date | undefined } | Error>): EcrTokenClient & { calls: number } {
    const client = {
      calls: 0,
      async getAuthorizationToken() {
        const a = answers[Math.min(client.calls, answers.length - 1)];
        client.calls++;
        if (a === undefined) throw new Error("no answer");
        if (a instanceof Error) throw a;
        return a;
      },
    };
    return client;
  }
  const token = (pw: string) => Buffer.from(`AWS:${pw}`).toString("base64");

  it("decodes AWS:<password> and reuses it until shortly before it expires", async () => {
    let now = 1_000_000;
    const client = fakeClient([{ token: token("p1"), expiresAt: new Date(now + 3_600_000) }, { token: token("p2"), expiresAt: new Date(now + 7_200_000) }]);
    const creds = createEcrCredentials(client, "r.example", "eu-west-3", () => now);
    const [a, b] = await Promise.all([creds.get(undefined), creds.get(undefined)]);
    assert.equal(a?.username, "AWS");
    assert.equal(a?.password.unwrap(), "p1");
    assert.equal(b?.password.unwrap(), "p1");
    now += 3_600_000 - 6 * 60_000;
    assert.equal((await creds.get(undefined))?.password.unwrap(), "p1");
    assert.equal(client.calls, 1);
    now += 2 * 60_000;
    assert.equal((await creds.get(undefined))?.password.unwrap(), "p2");
    assert.equal(client.calls, 2);
  });

  it("fetches a new token after invalidate", async () => {
    const client = fakeClient([{ token: token("p1"), expiresAt: undefined }]);
    const creds = createEcrCredentials(client, "r.example", "eu-west-3");
    await creds.get(undefined);
    creds.invalidate();
    await creds.get(undefined);
    assert.equal(client.calls, 2);
  });

  it("fails an SDK error with unauthenticated naming registry, region and the SDK error", async () => {
    const denied = Object.assign(new Error("not authorized to perform ecr:GetAuthorizationToken"), { name: "AccessDeniedException" });
    const creds = createEcrCredentials(fakeClient([denied]), "r.example", "eu-west-3");
    await assert.rejects(creds.get(undefined), (err: unknown) => {
      assert.ok(err instanceof EcrAuthError);
      assert.equal(err.code, "unauthenticated");
      assert.equal(err.message, 'ecr GetAuthorizationToken for registry "r.example" in region "eu-west-3" failed: AccessDeniedException: not authorized to perform ecr:GetAuthorizationToken');
      return true;
    });
  });

  it("fails an empty answer with a clear message instead of a nil error", async () => {
    const creds = createEcrCredentials(fakeClient([{ token: "", expiresAt: undefined }]), "r.example", "eu-west-3");
    await assert.rejects(creds.get(undefined), (err: unknown) => {
      assert.ok(err instanceof EcrAuthError);
      assert.equal(err.code, "unauthenticated");
      assert.match(err.message, /failed: the answer held no token of the form user:password$/);
      return true;
    });
  });
});
