import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
import { createHealthRegistry } from "./health-registry.js";
import { createHealthService } from "./health-service.js";
import { lazyServiceImpl } from "./lazy-service.js";

function setup(load?: () => Promise<never>) {
  const registry = createHealthRegistry();
  registry.set("", "serving");
  let loads = 0;
  const impl = createHealthService(registry);
  const lazy = lazyServiceImpl(Health, async () => {
    loads++;
    return load ? load() : impl;
  });
  const client = createClient(Health, createRouterTransport((router) => router.service(Health, lazy)));
  return { registry, client, loads: () => loads };
}

describe("lazyServiceImpl", () => {
  it("asks for the implementation on the first call, not before, and hands it every call", async () => {
    const { client, loads } = setup();
    assert.equal(loads(), 0, "nothing is loaded while nobody calls");
    assert.equal((await client.check({ service: "" })).status, Status.SERVING);
    assert.equal((await client.check({ service: "" })).status, Status.SERVING);
    assert.equal(loads(), 2);
  });

  it("streams a server-streaming method's answers from the implementation", async () => {
    const { client, registry } = setup();
    const seen: Status[] = [];
    for await (const res of client.watch({ service: "" })) {
      seen.push(res.status);
      if (seen.length === 2) break;
      registry.set("", "notServing");
    }
    assert.deepEqual(seen, [Status.SERVING, Status.NOT_SERVING]);
  });

  it("passes the implementation's errors through with their code", async () => {
    const { client } = setup();
    const err = await client.check({ service: "buildplane.v1.NopeService" }).then(
      () => assert.fail("expected NotFound"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err.code, Code.NotFound);
    assert.equal(err.rawMessage, 'service "buildplane.v1.NopeService" is not known to this server');
  });

  it("fails the call when the implementation cannot be made", async () => {
    const { client } = setup(async () => {
      throw new ConnectError("the database is away", Code.Unavailable);
    });
    const err = await client.check({ service: "" }).then(
      () => assert.fail("expected Unavailable"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err.code, Code.Unavailable);
    assert.equal(err.rawMessage, "the database is away");
  });
});
