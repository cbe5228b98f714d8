import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../libs/gen/grpc/health/v1/health_pb.js";
import { freePort } from "../helpers/free-port.js";
import { startPostgresProxy } from "../metadata/postgres-proxy.js";
import { testDialects } from "../metadata/test-databases.js";
import { childEnv, startServe, tempDir, writeConfig } from "./serve-process.js";

const metadata = "buildplane.v1.MetadataService";

describe("buildplane serve health", () => {
  it("reports the server NOT_SERVING while the metadata database is unreachable, and SERVING once it answers", { timeout: 60_000 }, async (t) => {
    // Undone last first: the server stops before its database goes.
    const cleanups: Array<() => unknown> = [];
    t.after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });
    const postgres = testDialects.find((d) => d.name === "postgres");
    assert.ok(postgres);
    const tdb = await postgres.create();
    cleanups.push(() => tdb.drop());
    const dir = tempDir("bp-health-");
    cleanups.push(() => dir.cleanup());
    // Nothing listens on `port` until the proxy starts: the database is down.
    const port = await freePort();
    const dbConnection = tdb.dbConnection.replace("127.0.0.1:5432", `127.0.0.1:${port}`);
    const file = writeConfig(dir.path, `[metadata]\ndb_connection = "${dbConnection}"\n`);
    const proc = await startServe(["--config", file, "--services", "metadata"], childEnv(dir.path));
    cleanups.push(async () => {
      proc.kill();
      await proc.exited;
    });
    const health = createClient(Health, createGrpcTransport({ baseUrl: proc.url }));

    assert.equal((await health.check({ service: "" })).status, Status.NOT_SERVING);
    assert.equal((await health.check({ service: metadata })).status, Status.NOT_SERVING);

    const abort = new AbortController();
    cleanups.push(() => abort.abort());
    const watch = health.watch({ service: "" }, { signal: abort.signal })[Symbol.asyncIterator]();
    assert.equal((await watch.next()).value?.status, Status.NOT_SERVING);

    const proxy = await startPostgresProxy(port);
    cleanups.push(() => proxy.close());
    assert.equal((await watch.next()).value?.status, Status.SERVING);
    assert.equal((await health.check({ service: "" })).status, Status.SERVING);
    assert.equal((await health.check({ service: metadata })).status, Status.SERVING);
  });
});
