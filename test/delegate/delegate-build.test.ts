import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { Secret } from "../../libs/secret/secret.js";
import { createDelegateBuilder, type DelegateBuilder } from "../../services/builder/delegate/delegate-builder.js";
import { startTcpForwarder } from "../helpers/tcp-forwarder.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { checkDigest, makeJob, plainTarget, recorder } from "./fixtures/build-fixtures.js";
import { startNode, type TestNode } from "./fixtures/start-node.js";
import { removeTestImages } from "./fixtures/test-images.js";

const token = `tok-${Math.random().toString(36).slice(2)}`;
let registry: TestRegistry;
let nodes: TestNode[] = [];
let builder: DelegateBuilder;

before(async () => {
  registry = await startRegistry();
  nodes = await Promise.all([startNode({ token }), startNode({ token })]);
  builder = createDelegateBuilder({ urls: nodes.map((n) => n.url), token: new Secret(token), checkDigest, pollIntervalMs: 500 });
});

after(async () => {
  await builder?.close();
  await Promise.all(nodes.map((n) => n.stop()));
  await registry?.stop();
  await removeTestImages();
});

test("a delegated build is pushed by a node, its logs reach the caller and the digest is checked in the registry", async () => {
  const job = makeJob({ registry: plainTarget(registry.host), appId: "shop" });
  const rec = recorder();
  const outcome = await builder.build(job, rec.onProgress, new AbortController().signal);
  assert.equal(outcome.reference, job.reference);
  assert.equal(outcome.digest, await checkDigest(job.reference, job.registry ?? plainTarget(""), AbortSignal.timeout(5000)));
  assert.match(outcome.digest, /^sha256:[0-9a-f]{64}$/);
  assert.match(rec.logs(), new RegExp(`built-${job.marker}`));
  assert.equal(rec.nodes().length, 1);
  assert.ok(nodes.some((n) => n.url === rec.nodes()[0]));
  const run = await runCommand("docker", ["run", "--rm", job.reference, "cat", "/hello.txt"]);
  assert.equal(run.stdout, `hello ${job.marker}\n`);
});

test("builds of the same app go to the same node", async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const rec = recorder();
    await builder.build(makeJob({ registry: plainTarget(registry.host), appId: "catalog" }), rec.onProgress, new AbortController().signal);
    for (const n of rec.nodes()) seen.add(n);
  }
  assert.equal(seen.size, 1);
});

test("the pool reports every node healthy with its capacity", () => {
  const states = builder.nodes();
  assert.deepEqual(states.map((s) => s.url).sort(), nodes.map((n) => n.url).sort());
  for (const s of states) {
    assert.equal(s.healthy, true, s.reason);
    assert.equal(s.capacity, 2);
  }
});

test("a delegated build crosses a link with a 40 ms round trip whole: every byte of a 24 MiB context arrives", async (t) => {
  // The node sizes the stream window to the round trip (16 MiB here) while the context streams.
  const link = await startTcpForwarder(nodes[0]?.port ?? 0, { delayMs: 20 });
  t.after(() => link.close());
  const far = createDelegateBuilder({ urls: [`http://127.0.0.1:${link.port}`], token: new Secret(token), checkDigest, pollIntervalMs: 500 });
  t.after(() => far.close());
  const big = randomBytes(24 * 1024 * 1024);
  const job = makeJob({
    registry: plainTarget(registry.host),
    appId: "far",
    dockerfile: "FROM local/busybox:1\nCOPY big.bin /big.bin\nRUN sha256sum /big.bin\n",
    files: { "big.bin": big },
  });
  const rec = recorder();
  const outcome = await far.build(job, rec.onProgress, new AbortController().signal);
  assert.equal(outcome.reference, job.reference);
  assert.match(rec.logs(), new RegExp(`${createHash("sha256").update(big).digest("hex")}  /big.bin`));
});
