import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { ConfigService } from "../gen/buildplane/v1/config_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { Secret } from "../secret/secret.js";
import { createBearerAuthInterceptor, createBearerTokenInterceptor } from "./auth-interceptor.js";
import { createHealthRegistry } from "./health-registry.js";
import { createHealthService } from "./health-service.js";
import { createFixtureConfigService } from "./test-fixtures.js";

const token = "s3cr3t-token-value";

function transport(clientToken?: string, rawHeader?: string) {
  const health = createHealthRegistry();
  health.set("", "serving");
  const mounted = createFixtureConfigService();
  return createRouterTransport(
    (router) => {
      mounted.register(router);
      router.service(Health, createHealthService(health));
    },
    {
      router: { interceptors: [createBearerAuthInterceptor({ token: new Secret(token) })] },
      transport: {
        interceptors: [
          ...(clientToken === undefined ? [] : [createBearerTokenInterceptor(new Secret(clientToken))]),
          ...(rawHeader === undefined ? [] : [setAuthorization(rawHeader)]),
        ],
      },
    },
  );
}

function setAuthorization(value: string): Interceptor {
  return (next) => async (req) => {
    req.header.set("authorization", value);
    return next(req);
  };
}

async function rejection(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

describe("bearer token auth", () => {
  it("accepts a call with the right token", async () => {
    const res = await createClient(ConfigService, transport(token)).getConfig({});
    assert.equal(res.config?.sourceFile, "fixture.toml");
  });

  it("rejects a call without a token as unauthenticated", async () => {
    const err = await rejection(createClient(ConfigService, transport()).getConfig({}));
    assert.equal(err.code, Code.Unauthenticated);
    assert.equal(err.rawMessage, "missing bearer token");
  });

  it("rejects a wrong token without echoing it", async () => {
    const err = await rejection(createClient(ConfigService, transport("wrong-guess-123")).getConfig({}));
    assert.equal(err.code, Code.Unauthenticated);
    assert.equal(err.rawMessage, "invalid bearer token");
    assert.doesNotMatch(err.message, /wrong-guess-123/);
  });

  it("rejects another authorization scheme as a missing bearer token", async () => {
    const err = await rejection(createClient(ConfigService, transport(undefined, `Basic ${token}`)).getConfig({}));
    assert.equal(err.code, Code.Unauthenticated);
    assert.equal(err.rawMessage, "missing bearer token");
  });

  it("rejects a token that only shares a prefix with the right one", async () => {
    const err = await rejection(createClient(ConfigService, transport(`${token}x`)).getConfig({}));
    assert.equal(err.code, Code.Unauthenticated);
    assert.equal(err.rawMessage, "invalid bearer token");
  });

  it("leaves the health service open", async () => {
    const res = await createClient(Health, transport()).check({ service: "" });
    assert.equal(res.status, 1);
  });
});
