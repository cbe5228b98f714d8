import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectError, Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import type { BuildEvent } from "../../libs/gen/buildplane/v1/common_pb.js";
import { runCommand } from "../helpers/run-command.js";
import { tempDir } from "../helpers/temp-dir.js";
import { startServe } from "../rpc/serve-process.js";
import { containersWith, eventually, makeAppRepo, removeImages } from "./app-fixture.js";
import { cliEnv, listBuilds } from "./cli-process.js";

/** One EnsureImage call followed event by event. */
function follow(stream: AsyncIterable<{ event?: BuildEvent }>) {
  const events: BuildEvent[] = [];
  const watchers = new Set<() => void>();
  const done = (async () => {
    try {
      for await (const res of stream) {
        if (res.event) events.push(res.event);
        for (const w of watchers) w();
      }
      return undefined;
    } catch (err) {
      return ConnectError.from(err);
    } finally {
      for (const w of watchers) w();
    }
  })();
  let ended = false;
  void done.then(() => (ended = true));
  const waitFor = (match: (e: BuildEvent) => boolean): Promise<BuildEvent> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = events.find(match);
        if (found) {
          watchers.delete(check);
          resolve(found);
        } else if (ended) {
          watchers.delete(check);
          reject(new Error(`the call ended before the expected event: ${JSON.stringify(events.map((e) => e.event.case))}`));
        }
      };
      watchers.add(check);
      check();
    });
  return { events, done, waitFor };
}

describe("buildplane serve with a full build queue", () => {
  it("streams queue positions to a waiting caller and refuses one past [builder] max_queue at once with resource_exhausted and retry-after", { timeout: 300_000 }, async (t) => {
    const slow = await makeAppRepo();
    const marker = `queue-${slow.nonce}`;
    await slow.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo step-started && sleep 300 && echo ${marker}\n` });
    const waiting = await makeAppRepo();
    const refused = await makeAppRepo();
    const data = await tempDir("buildplane-e2e-data-");
    const env = cliEnv(data.path, {
      BUILDPLANE_SOURCE_LOCAL_ROOTS: [slow.path, waiting.path, refused.path].join(","),
      BUILDPLANE_SYSTEM_MAX_CONCURRENT_BUILDS: "1",
      BUILDPLANE_BUILDER_MAX_QUEUE: "1",
    });
    const server = await startServe([], env);
    const sessions = new Http2SessionManager(server.url);
    const images: string[] = [];
    t.after(async () => {
      sessions.abort();
      server.kill();
      await server.exited;
      for (const id of await containersWith(marker)) await runCommand("docker", ["rm", "--force", id]).catch(() => undefined);
      await removeImages("docker", images);
      for (const repo of [slow, waiting, refused]) await repo.remove();
      await data.remove();
    });
    const resolver = createClient(ResolverService, createGrpcTransport({ baseUrl: server.url, sessionManager: sessions }));
    const ensure = (url: string, signal?: AbortSignal) => follow(resolver.ensureImage({ spec: { source: { repository: url, dir: "app" } } }, { signal }));

    const stopSlow = new AbortController();
    const first = ensure(slow.url, stopSlow.signal);
    await first.waitFor((e) => e.event.case === "log" && e.event.value.text === "step-started");
    const second = ensure(waiting.url);
    const queued = await second.waitFor((e) => e.event.case === "queued");
    assert.equal(queued.event.case === "queued" && queued.event.value.position, 1, "the waiting caller sees its place in the queue");

    const third = ensure(refused.url);
    const err = await third.done;
    assert.ok(err instanceof ConnectError, "the call past the queue ends with an error");
    assert.equal(err.code, Code.ResourceExhausted);
    assert.equal(err.rawMessage, "the build queue is full: 1 build waits for 1 slot (builder.max_queue = 1): retry in 10s or on another replica");
    assert.equal(err.metadata.get("retry-after"), "10");
    const failed = third.events.at(-1);
    assert.equal(failed?.event.case, "failed");
    assert.equal(failed.event.case === "failed" && failed.event.value.code, "resource_exhausted");
    assert.equal(second.events.some((e) => e.event.case === "ready" || e.event.case === "failed"), false, "the queued build still waits");

    stopSlow.abort();
    assert.equal(await second.done, undefined, "the queued build runs once the slot is free");
    const ready = second.events.at(-1);
    assert.equal(ready?.event.case, "ready");
    if (ready.event.case === "ready") images.push(ready.event.value.image);
    assert.ok(await eventually(async () => (await containersWith(marker)).length === 0, 30_000), "the canceled build's container is gone");

    const records = await listBuilds(env);
    assert.deepEqual(records.map((r) => [r.status, r.errorCode]).sort(), [["canceled", "canceled"], ["failed", "resource_exhausted"], ["succeeded", ""]]);
  });
});
