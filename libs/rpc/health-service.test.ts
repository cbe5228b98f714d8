import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
import { createHealthRegistry } from "./health-registry.js";
import { createHealthService } from "./health-service.js";

function setup() {
  const registry = createHealthRegistry();
  registry.set("", "serving");
  registry.set("buildplane.v1.ConfigService", "serving");
  registry.set("buildplane.v1.MetadataService", "notServing");
  const client = createClient(Health, createRouterTransport((router) => router.service(Health, createHealthService(registry))));
  return { registry, client };
}

describe("health service", () => {
  it("reports the whole server under the empty name", async () => {
    assert.equal((await setup().client.check({ service: "" })).status, Status.SERVING);
  });

  it("reports each service by its fully qualified name", async () => {
    const { client } = setup();
    assert.equal((await client.check({ service: "buildplane.v1.ConfigService" })).status, Status.SERVING);
    assert.equal((await client.check({ service: "buildplane.v1.MetadataService" })).status, Status.NOT_SERVING);
  });

  it("answers NotFound for a service it does not know", async () => {
    const err = await setup().client.check({ service: "buildplane.v1.NopeService" }).then(
      () => assert.fail("expected NotFound"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err.code, Code.NotFound);
    assert.equal(err.rawMessage, 'service "buildplane.v1.NopeService" is not known to this server');
  });

  it("lists every service with its status", async () => {
    const res = await setup().client.list({});
    const statuses = Object.fromEntries(Object.entries(res.statuses).map(([k, v]) => [k, v.status]));
    assert.deepEqual(statuses, {
      "": Status.SERVING,
      "buildplane.v1.ConfigService": Status.SERVING,
      "buildplane.v1.MetadataService": Status.NOT_SERVING,
    });
  });

  it("streams a new status to watchers when a service changes", async () => {
    const { registry, client } = setup();
    const abort = new AbortController();
    const seen: Status[] = [];
    try {
      for await (const res of client.watch({ service: "buildplane.v1.MetadataService" }, { signal: abort.signal })) {
        seen.push(res.status);
        if (seen.length === 1) registry.set("buildplane.v1.MetadataService", "serving");
        if (seen.length === 2) abort.abort();
      }
    } catch (err) {
      assert.equal(ConnectError.from(err).code, Code.Canceled);
    }
    assert.deepEqual(seen, [Status.NOT_SERVING, Status.SERVING]);
  });

  it("streams SERVICE_UNKNOWN for an unknown service until it appears", async () => {
    const { registry, client } = setup();
    const abort = new AbortController();
    const seen: Status[] = [];
    try {
      for await (const res of client.watch({ service: "buildplane.v1.SourceService" }, { signal: abort.signal })) {
        seen.push(res.status);
        if (seen.length === 1) registry.set("buildplane.v1.SourceService", "serving");
        if (seen.length === 2) abort.abort();
      }
    } catch (err) {
      assert.equal(ConnectError.from(err).code, Code.Canceled);
    }
    assert.deepEqual(seen, [Status.SERVICE_UNKNOWN, Status.SERVING]);
  });
});
