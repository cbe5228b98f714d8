import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Secret } from "../../libs/secret/secret.js";
import { createDelegateBuilder } from "../../services/builder/delegate/delegate-builder.js";
import type { BuildProgress } from "../../services/builder/image-builder.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { checkDigest, makeJob, plainTarget, recorder } from "./fixtures/build-fixtures.js";
import { startNode, type TestNode } from "./fixtures/start-node.js";
import { removeTestImages } from "./fixtures/test-images.js";

const token = `tok-${Math.random().toString(36).slice(2)}`;
let registry: TestRegistry;
const started: TestNode[] = [];

before(async () => {
  registry = await startRegistry();
});

after(async () => {
  await Promise.all(started.map((n) => n.stop()));
  await registry?.stop();
  await removeTestImages();
});

async function nodes(n: number): Promise<TestNode[]> {
  const list = await Promise.all(Array.from({ length: n }, () => startNode({ token })));
  started.push(...list);
  return list;
}

/**
 * Calls `action` once, when a log line is exactly `text`: the output of the
 * `RUN echo`, so the step's container is running (the engine's `Step n/m :`
 * line also contains the text, but comes before the container exists).
 */
function onLog(text: string, action: () => void): (p: BuildProgress) => void {
  let done = false;
  return (p) => {
    if (!done && p.type === "log" && p.text.trim() === text) {
      done = true;
      action();
    }
  };
}

test("a stopped node's builds go to the other node", async () => {
  const [a, b] = await nodes(2);
  const builder = createDelegateBuilder({ urls: [a?.url ?? "", b?.url ?? ""], token: new Secret(token), checkDigest, pollIntervalMs: 60_000 });
  try {
    const first = recorder();
    await builder.build(makeJob({ registry: plainTarget(registry.host), appId: "orders" }), first.onProgress, new AbortController().signal);
    const preferred = started.find((n) => n.url === first.nodes()[0]);
    assert.ok(preferred);
    await preferred.stop();
    const second = recorder();
    const job = makeJob({ registry: plainTarget(registry.host), appId: "orders" });
    const outcome = await builder.build(job, second.onProgress, new AbortController().signal);
    assert.equal(outcome.digest, await checkDigest(job.reference, plainTarget(registry.host), AbortSignal.timeout(5000)));
    assert.deepEqual(second.nodes(), [preferred.url, [a, b].find((n) => n !== preferred)?.url]);
    assert.match(second.logs(), new RegExp(`builder node ${preferred.url} could not be reached`));
  } finally {
    await builder.close();
  }
});

test("a node killed mid-build is replaced by another node that finishes the build", async () => {
  const [a, b] = await nodes(2);
  const builder = createDelegateBuilder({ urls: [a?.url ?? "", b?.url ?? ""], token: new Secret(token), checkDigest, pollIntervalMs: 60_000 });
  try {
    const rec = recorder();
    const job = makeJob({ registry: plainTarget(registry.host), dockerfile: "FROM local/busybox:1\nCOPY hello.txt /hello.txt\nRUN echo start-MARKER && sleep 3\n" });
    const kill = onLog(`start-${job.marker}`, () => void started.find((n) => n.url === rec.nodes().at(-1))?.kill());
    const outcome = await builder.build(job, (p) => (rec.onProgress(p), kill(p)), new AbortController().signal);
    assert.equal(outcome.digest, await checkDigest(job.reference, plainTarget(registry.host), AbortSignal.timeout(5000)));
    assert.equal(rec.nodes().length, 2);
    assert.notEqual(rec.nodes()[0], rec.nodes()[1]);
    assert.match(rec.logs(), new RegExp(`builder node ${rec.nodes()[0]} was lost mid-build`));
  } finally {
    await builder.close();
  }
});

test("a lone node killed mid-build fails the build with unavailable naming the node", async () => {
  const [a] = await nodes(1);
  assert.ok(a);
  const builder = createDelegateBuilder({ urls: [a.url], token: new Secret(token), checkDigest, pollIntervalMs: 60_000 });
  try {
    const job = makeJob({ registry: plainTarget(registry.host), dockerfile: "FROM local/busybox:1\nRUN echo start-MARKER && sleep 30\n" });
    const kill = onLog(`start-${job.marker}`, () => void a.kill());
    await assert.rejects(builder.build(job, kill, new AbortController().signal), (err: Error & { code?: string }) => {
      assert.equal(err.code, "unavailable");
      assert.match(err.message, new RegExp(`^builder node ${a.url} was lost mid-build: .*no other healthy builder node is left`));
      return true;
    });
  } finally {
    await builder.close();
  }
});

test("canceling a delegated build stops the engine build on the node", async () => {
  const [a] = await nodes(1);
  assert.ok(a);
  const builder = createDelegateBuilder({ urls: [a.url], token: new Secret(token), checkDigest, pollIntervalMs: 60_000 });
  try {
    const job = makeJob({ registry: plainTarget(registry.host), dockerfile: "FROM local/busybox:1\nRUN echo start-MARKER && sleep 60\n" });
    const left = async (): Promise<string[]> =>
      (await runCommand("docker", ["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Command}}"])).stdout.split("\n").filter((l) => l.includes(job.marker));
    const stop = new AbortController();
    let runningAtCancel: string[] = [];
    const cancel = onLog(`start-${job.marker}`, () => void left().then((l) => ((runningAtCancel = l), stop.abort(new Error("caller went away")))));
    await assert.rejects(builder.build(job, cancel, stop.signal), (err: Error & { code?: string }) => {
      assert.equal(err.code, "canceled");
      assert.match(err.message, /was canceled/);
      return true;
    });
    assert.equal(runningAtCancel.length, 1, "the build container runs on the node when the caller cancels");
    const deadline = Date.now() + 20_000;
    while ((await left()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual(await left(), []);
  } finally {
    await builder.close();
  }
});
