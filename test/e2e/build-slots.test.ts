import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openEmbedded, type ResolverConnection } from "../../app/embedded.js";
import { buildEventToJson, type BuildEventJson } from "../../bin/commands/build-events.js";
import { loadConfig } from "../../libs/config/load-config.js";
import { tempDir } from "../helpers/temp-dir.js";
import { makeAppRepo, removeImages } from "./app-fixture.js";
import { cliEnv, listBuilds } from "./cli-process.js";

/** Follows one EnsureImage call; `seen` gets every event as it comes. */
async function follow(connection: ResolverConnection, repository: string, dir: string, seen: (e: BuildEventJson) => void, signal?: AbortSignal): Promise<BuildEventJson[]> {
  const events: BuildEventJson[] = [];
  try {
    for await (const res of connection.resolver.ensureImage({ spec: { source: { repository, dir } } }, signal ? { signal } : {})) {
      const e = res.event && buildEventToJson(res.event);
      if (!e) continue;
      events.push(e);
      seen(e);
    }
  } catch {
    // a failed build ends the stream with its error after the failed event
  }
  return events;
}

/** Resolves when `seen` reports an event `match` accepts. */
function waiter(match: (e: BuildEventJson) => boolean): { seen: (e: BuildEventJson) => void; reached: Promise<void> } {
  let done: () => void = () => undefined;
  const reached = new Promise<void>((r) => (done = r));
  return { seen: (e) => void (match(e) && done()), reached };
}

/** Two apps in one repository: `slow/` runs a while, `quick/` is the app fixture. */
async function twoApps(sleepSecs: number) {
  return makeAppRepo({ "slow/Containerfile": `FROM local/busybox:1\nCOPY marker.txt /marker.txt\nRUN echo slow-started && sleep ${sleepSecs}\n`, "slow/marker.txt": `${Math.random()}\n` });
}

describe("build slots", () => {
  it("queues a second app behind max_concurrent_builds = 1, reports position 1, then builds it", async (t) => {
    const repo = await twoApps(3);
    const data = await tempDir("buildplane-e2e-data-");
    const env = cliEnv(data.path, { BUILDPLANE_SYSTEM_MAX_CONCURRENT_BUILDS: "1", BUILDPLANE_SYSTEM_MAX_BUILD_WAIT_SECS: "120" });
    const connection = await openEmbedded(loadConfig({ env }));
    const images: string[] = [];
    t.after(async () => {
      await connection.close();
      await removeImages("docker", images);
      await repo.remove();
      await data.remove();
    });
    const slowStarted = waiter((e) => e.type === "log" && e.text === "slow-started");
    const slow = follow(connection, repo.url, "slow", slowStarted.seen);
    await slowStarted.reached;
    const quick = await follow(connection, repo.url, "app", () => undefined);
    const slowEvents = await slow;
    for (const e of [...quick, ...slowEvents]) if (e.type === "ready") images.push(e.image);

    assert.deepEqual(quick.filter((e) => e.type === "queued").map((e) => e.type === "queued" && e.position), [1]);
    const types = quick.map((e) => e.type);
    assert.ok(types.indexOf("queued") < types.indexOf("log"), `queued comes before the build runs: ${types.join(",")}`);
    assert.equal(quick.at(-1)?.type, "ready", JSON.stringify(quick.at(-1)));
    assert.equal(slowEvents.at(-1)?.type, "ready");
    assert.ok(!slowEvents.some((e) => e.type === "queued"), "the first build never waited");
  });

  it("fails a queued build with resource_exhausted after max_build_wait_secs", async (t) => {
    const repo = await twoApps(30);
    const data = await tempDir("buildplane-e2e-data-");
    const env = cliEnv(data.path, { BUILDPLANE_SYSTEM_MAX_CONCURRENT_BUILDS: "1", BUILDPLANE_SYSTEM_MAX_BUILD_WAIT_SECS: "1" });
    const connection = await openEmbedded(loadConfig({ env }));
    const stopSlow = new AbortController();
    t.after(async () => {
      stopSlow.abort();
      await connection.close();
      await repo.remove();
      await data.remove();
    });
    const slowStarted = waiter((e) => e.type === "log" && e.text === "slow-started");
    const slow = follow(connection, repo.url, "slow", slowStarted.seen, stopSlow.signal);
    await slowStarted.reached;
    const quick = await follow(connection, repo.url, "app", () => undefined);
    stopSlow.abort();
    await slow;

    assert.deepEqual(quick.filter((e) => e.type === "queued").map((e) => e.type === "queued" && e.position), [1]);
    const last = quick.at(-1);
    assert.equal(last?.type, "failed", JSON.stringify(last));
    assert.equal(last.code, "resource_exhausted");
    assert.equal(last.message, "no build slot became free within 1s (system.max_concurrent_builds = 1): retry later or raise the limit");
    await connection.close();
    const records = await listBuilds(env);
    const record = records.find((b) => b.id === last.buildId);
    assert.equal(record?.status, "failed");
    assert.equal(record.errorCode, "resource_exhausted");
    assert.equal(records.find((b) => b.id !== last.buildId)?.status, "canceled", "the slow build, abandoned, is final too");
  });
});
