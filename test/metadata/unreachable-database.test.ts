import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { createErrorInterceptor } from "../../libs/rpc/errors.js";
import { createHealthRegistry } from "../../libs/rpc/health-registry.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { openDatabase } from "../../libs/db/open-database.js";
import { DatabaseUnreachableError } from "../../libs/db/errors.js";
import { startMetadataRuntime } from "../../services/metadata/metadata-runtime.js";
import { createMetadataService } from "../../services/metadata/service.js";
import { expectRpcError } from "./rpc-assert.js";
import { freePort } from "../helpers/free-port.js";
import { startPostgresProxy } from "./postgres-proxy.js";
import { testDialects, type TestDatabase } from "./test-databases.js";

const postgres = testDialects.find((d) => d.name === "postgres");

describe("metadata database unreachable at start", () => {
  let tdb: TestDatabase;
  let port: number;
  let url: string;
  before(async () => {
    assert.ok(postgres);
    tdb = await postgres.create();
    port = await freePort();
    url = tdb.dbConnection.replace("127.0.0.1:5432", `127.0.0.1:${port}`);
  });
  after(() => tdb.drop());

  test("fails with an error naming host and port after retrying with growing delays", async () => {
    const delays: number[] = [];
    const dbName = url.slice(url.lastIndexOf("/") + 1);
    await assert.rejects(
      openDatabase(url, { maxAttempts: 3, retryDelayMs: 10, onRetry: (_e, _a, d) => delays.push(d) }),
      (err: unknown) => {
        assert.ok(err instanceof DatabaseUnreachableError);
        assert.equal(err.code, "unavailable");
        assert.equal(err.message, `metadata database postgres at 127.0.0.1:${port}/${dbName} is unreachable: connect ECONNREFUSED 127.0.0.1:${port}`);
        return true;
      },
    );
    assert.deepEqual(delays, [10, 20]);
  });

  test("reports NOT_SERVING and answers Unavailable until the database comes up, then serves", async () => {
    const health = createHealthRegistry();
    const name = MetadataService.typeName;
    const retries: string[] = [];
    const runtime = startMetadataRuntime({
      dbConnection: url,
      poolSize: 2,
      maxLogLinesPerBuild: 100,
      retryDelayMs: 20,
      maxRetryDelayMs: 100,
      onHealth: (ok) => health.set(name, ok ? "serving" : "notServing"),
      onRetry: (message) => retries.push(message),
    });
    let proxy: { close(): Promise<void> } | undefined;
    try {
      const transport = createRouterTransport(({ service }) => service(MetadataService, createMetadataService(runtime.deps)), {
        router: { interceptors: [createErrorInterceptor(silentLogger)] },
      });
      const client = createClient(MetadataService, transport);
      while (retries.length < 2) await new Promise((r) => setTimeout(r, 10));
      assert.equal(health.get(name), "notServing");
      const dbName = url.slice(url.lastIndexOf("/") + 1);
      await expectRpcError(
        client.getBuild({ id: "b_x" }),
        Code.Unavailable,
        `metadata database postgres at 127.0.0.1:${port}/${dbName} is not available: connect ECONNREFUSED 127.0.0.1:${port}`,
      );
      proxy = await startPostgresProxy(port);
      await runtime.ready;
      assert.equal(health.get(name), "serving");
      await expectRpcError(client.getBuild({ id: "b_x" }), Code.NotFound, "build b_x not found");
    } finally {
      await runtime.close();
      await proxy?.close();
    }
    assert.equal(health.get(name), "notServing");
  });
});
