import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { createErrorInterceptor } from "../../libs/rpc/errors.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { startMetadataRuntime, type MetadataRuntime } from "../../services/metadata/metadata-runtime.js";
import { createMetadataService } from "../../services/metadata/service.js";
import { freePort } from "../helpers/free-port.js";
import { startPostgresProxy } from "../metadata/postgres-proxy.js";
import { testDialects, type TestDatabase } from "../metadata/test-databases.js";

/**
 * Several metadata processes on one database (replicas on Postgres, a
 * `buildplane gc` beside a server on SQLite): a collection marked through
 * any of them reaches the WatchCollected streams of all, once each, and a
 * process that cannot read the database ends its watches instead of
 * letting a resolver trust answers it can no longer keep up to date.
 */

interface Replica {
  readonly runtime: MetadataRuntime;
  readonly client: Client<typeof MetadataService>;
}

async function startReplica(dbConnection: string): Promise<Replica> {
  const runtime = startMetadataRuntime({ dbConnection, poolSize: 4, maxLogLinesPerBuild: 1000, retryDelayMs: 50, maxRetryDelayMs: 200 });
  await runtime.ready;
  const transport = createRouterTransport(({ service }) => service(MetadataService, createMetadataService(runtime.deps)), {
    router: { interceptors: [createErrorInterceptor(silentLogger)] },
  });
  return { runtime, client: createClient(MetadataService, transport) };
}

/** A WatchCollected stream read batch by batch; `next` fails the test after 20 s. */
function watch(replica: Replica): { next(): Promise<string[]>; stop(): void } {
  const abort = new AbortController();
  const it = replica.client.watchCollected({}, { signal: abort.signal })[Symbol.asyncIterator]();
  return {
    async next() {
      const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no batch within 20 s")), 20_000).unref());
      const r = await Promise.race([it.next(), timer]);
      if (r.done === true) throw new Error("the watch ended");
      return [...r.value.images];
    },
    stop: () => abort.abort(),
  };
}

async function succeededBuild(replica: Replica, image: string): Promise<string> {
  const { build } = await replica.client.createBuild({ build: { appId: "feed-app", imageKey: image, image, status: BuildStatus.RUNNING } });
  await replica.client.updateBuild({ id: build?.id ?? "", status: BuildStatus.SUCCEEDED, digest: `sha256:${image.length}` });
  return build?.id ?? "";
}

/** A watch once live (a replica's feed goes live after its first read of the database). */
async function liveWatch(replica: Replica): Promise<ReturnType<typeof watch>> {
  const w = watch(replica);
  assert.deepEqual(await w.next(), [], "a live watch starts with an empty batch");
  return w;
}

for (const dialect of testDialects) {
  describe(`collection feed on ${dialect.name}`, { timeout: 120_000 }, () => {
    let tdb: TestDatabase;
    let a: Replica;
    let b: Replica;
    before(async () => {
      tdb = await dialect.create();
      a = await startReplica(tdb.dbConnection);
      b = await startReplica(tdb.dbConnection);
    });
    after(async () => {
      await Promise.all([a?.runtime.close(), b?.runtime.close()]);
      await tdb?.drop();
    });

    test("a collection marked through one process reaches every process's watchers, once each", async () => {
      const [onA, onB] = await Promise.all([liveWatch(a), liveWatch(b)]);
      const first = await succeededBuild(a, "registry.test/feed-app:one");
      assert.equal((await a.client.markCollected({ ids: [first] })).marked, 1);
      assert.deepEqual(await onB.next(), ["registry.test/feed-app:one"], "the other process hears of it through the feed");
      assert.deepEqual(await onA.next(), ["registry.test/feed-app:one"], "the marking process tells its own watchers at once");

      const second = await succeededBuild(b, "registry.test/feed-app:two");
      assert.equal((await b.client.markCollected({ ids: [second] })).marked, 1);
      assert.deepEqual(await onA.next(), ["registry.test/feed-app:two"], "the first collection was not handed to A a second time");
      assert.deepEqual(await onB.next(), ["registry.test/feed-app:two"], "nor to B");
      onA.stop();
      onB.stop();
    });
  });
}

describe("collection feed of a process that loses the database", { timeout: 120_000 }, () => {
  const postgres = testDialects.find((d) => d.name === "postgres");
  let tdb: TestDatabase;
  let direct: Replica;
  let cut: Replica;
  let port: number;
  let proxy: { close(): Promise<void> } | undefined;
  before(async () => {
    if (!postgres) throw new Error("the postgres test dialect is missing");
    tdb = await postgres.create();
    port = await freePort();
    proxy = await startPostgresProxy(port);
    direct = await startReplica(tdb.dbConnection);
    cut = await startReplica(tdb.dbConnection.replace("127.0.0.1:5432", `127.0.0.1:${port}`));
  });
  after(async () => {
    await proxy?.close();
    await Promise.all([direct?.runtime.close(), cut?.runtime.close()]);
    await tdb?.drop();
  });

  test("ends its watches with unavailable while it cannot read the feed, and hears collections again once back", async () => {
    const w = await liveWatch(cut);
    await proxy?.close();
    proxy = undefined;
    await assert.rejects(w.next(), (err: unknown) => {
      assert.ok(err instanceof ConnectError, String(err));
      assert.equal(Code[err.code], "Unavailable");
      assert.ok(
        err.rawMessage.startsWith(`collected images cannot be watched: the collection feed cannot read metadata database postgres at 127.0.0.1:${port}/`),
        err.rawMessage,
      );
      return true;
    });
    const waiting = watch(cut);
    const marker = waiting.next();
    const early = await Promise.race([marker.then(() => "live"), new Promise((r) => setTimeout(() => r("waiting"), 1500))]);
    assert.equal(early, "waiting", "a watch opened while the feed is down is not live");

    // Collected while the process was cut off: its watchers were ended, so nothing they cached is trusted.
    const missed = await succeededBuild(direct, "registry.test/feed-app:missed");
    await direct.client.markCollected({ ids: [missed] });

    proxy = await startPostgresProxy(port);
    assert.deepEqual(await marker, [], "live once the feed reads the database again");
    const again = waiting;
    const later = await succeededBuild(direct, "registry.test/feed-app:later");
    await direct.client.markCollected({ ids: [later] });
    assert.deepEqual(await again.next(), ["registry.test/feed-app:later"]);
    again.stop();
  });
});
