import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Secret } from "../../libs/secret/secret.js";
import { createDelegateBuilder, type DelegateBuilder } from "../../services/builder/delegate/delegate-builder.js";
import { rendezvousOrder } from "../../services/builder/delegate/rendezvous.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { checkDigest, makeJob, plainTarget, recorder } from "./fixtures/build-fixtures.js";
import { onLog, sleepingDockerfile, waitFor } from "./fixtures/build-triggers.js";
import { startNode, type TestNode } from "./fixtures/start-node.js";
import { removeTestImages } from "./fixtures/test-images.js";

const token = `tok-${Math.random().toString(36).slice(2)}`;
let registry: TestRegistry;
let nodes: TestNode[] = [];

before(async () => {
  registry = await startRegistry();
  // One node with a single build slot, two with two: the app is placed so the single-slot node is its favourite.
  nodes = await Promise.all([startNode({ token, capacity: 1 }), startNode({ token, capacity: 2 }), startNode({ token, capacity: 2 })]);
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await registry?.stop();
  await removeTestImages();
});

/** An app id whose rendezvous favourite among the nodes is `favourite`, with the order of all the nodes for it. */
function appFavouring(favourite: string): { appId: string; order: string[] } {
  const urls = nodes.map((n) => n.url);
  for (let i = 0; ; i++) {
    const order = rendezvousOrder(`app-${i}`, urls, (u) => u);
    if (order[0] === favourite) return { appId: `app-${i}`, order };
  }
}

/**
 * Starts a long build on `url` from another main install (its own delegate
 * builder), so the node's `GetStatus` counts it as running; resolves once
 * the build's container runs, with a function that cancels it.
 */
async function occupy(url: string): Promise<() => Promise<void>> {
  const other: DelegateBuilder = createDelegateBuilder({ urls: [url], token: new Secret(token), checkDigest, pollIntervalMs: 60_000 });
  const stop = new AbortController();
  const job = makeJob({ registry: plainTarget(registry.host), dockerfile: sleepingDockerfile(120) });
  let running!: () => void;
  const started = new Promise<void>((resolve) => (running = resolve));
  let ended: unknown;
  const build = other.build(job, onLog(`start-${job.marker}`, running), stop.signal).then(
    () => void (ended = new Error(`the occupying build on ${url} finished before it was canceled`)),
    (err: unknown) => void (ended = err),
  );
  await Promise.race([started, build]);
  if (ended !== undefined) throw ended;
  return async () => {
    stop.abort(new Error("occupying build no longer needed"));
    await build;
    await other.close();
  };
}

test("when the app's favourite node is at capacity the build goes to the least loaded healthy node, not the next in rendezvous order", async () => {
  const single = nodes[0];
  assert.ok(single);
  const { appId, order } = appFavouring(single.url);
  const [favourite, second, third] = order;
  assert.ok(favourite && second && third);
  const builder = createDelegateBuilder({ urls: nodes.map((n) => n.url), token: new Secret(token), checkDigest, pollIntervalMs: 200 });
  const releases: Array<() => Promise<void>> = [];
  try {
    const free = recorder();
    await builder.build(makeJob({ registry: plainTarget(registry.host), appId }), free.onProgress, new AbortController().signal);
    assert.deepEqual(free.nodes(), [favourite], "with room on it, the app's build goes to its favourite");

    // The favourite full (1 of 1), the rendezvous runner-up half full (1 of 2), the third idle (0 of 2).
    releases.push(await occupy(favourite), await occupy(second));
    const load = (url: string): string => {
      const s = builder.nodes().find((n) => n.url === url);
      return `${s?.running ?? "?"}/${s?.capacity ?? "?"}`;
    };
    await waitFor("the pool seeing the favourite full and the runner-up half full", () => load(favourite) === "1/1" && load(second) === "1/2" && load(third) === "0/2");

    const rec = recorder();
    const job = makeJob({ registry: plainTarget(registry.host), appId });
    const outcome = await builder.build(job, rec.onProgress, new AbortController().signal);
    assert.deepEqual(rec.nodes(), [third]);
    assert.equal(outcome.digest, await checkDigest(job.reference, plainTarget(registry.host), AbortSignal.timeout(5000)));
  } finally {
    await Promise.all(releases.map((release) => release()));
    await builder.close();
  }
});
