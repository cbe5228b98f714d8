import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { Secret } from "../../libs/secret/secret.js";
import { createDelegateBuilder } from "../../services/builder/delegate/delegate-builder.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { checkDigest, makeJob, plainTarget, recorder } from "./fixtures/build-fixtures.js";
import { onLog, sleepingDockerfile } from "./fixtures/build-triggers.js";
import { startNode, type TestNode } from "./fixtures/start-node.js";
import { removeTestImages } from "./fixtures/test-images.js";

// A hung node keeps its socket open: only the HTTP/2 pings notice it. The
// builders below use the product's own ping and poll periods (2 s, 5 s).

const token = `tok-${Math.random().toString(36).slice(2)}`;
let registry: TestRegistry;
const started: TestNode[] = [];

before(async () => {
  registry = await startRegistry();
});

after(async () => {
  // A stopped process ignores SIGTERM until it is continued; SIGKILL ends it either way.
  await Promise.all(started.map((n) => n.kill().then(() => n.stop())));
  await registry?.stop();
  await removeTestImages();
});

async function nodes(n: number): Promise<TestNode[]> {
  const list = await Promise.all(Array.from({ length: n }, () => startNode({ token })));
  started.push(...list);
  return list;
}

/** The promise: no caller waits longer than this for a node that stopped answering. */
const hungNodeDeadlineMs = 10_000;

type CodedError = Error & { code?: string };

/** The kernel's state letter of a node's process (`T` when stopped by a signal). */
async function processState(node: TestNode | undefined): Promise<string> {
  const stat = await readFile(`/proc/${node?.child.pid ?? 0}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

test("a lone node that hangs mid-build (SIGSTOP) fails the build with unavailable naming the node within 10 s", async (t) => {
  const [a] = await nodes(1);
  assert.ok(a);
  const builder = createDelegateBuilder({ urls: [a.url], token: new Secret(token), checkDigest });
  try {
    const job = makeJob({ registry: plainTarget(registry.host), dockerfile: sleepingDockerfile(60) });
    let stoppedAt = 0;
    const hang = onLog(`start-${job.marker}`, () => {
      a.child.kill("SIGSTOP");
      stoppedAt = Date.now();
    });
    // Far past the deadline, so a build that never ends fails this test instead of hanging it.
    const err = await builder.build(job, hang, AbortSignal.timeout(60_000)).then(
      () => assert.fail("the build must fail"),
      (e: unknown) => e as CodedError,
    );
    const waited = Date.now() - stoppedAt;
    t.diagnostic(`failed ${waited} ms after the node hung`);
    assert.ok(stoppedAt > 0, "the node was stopped mid-build");
    assert.equal(await processState(a), "T", "the node is hung, not dead");
    assert.equal(err.code, "unavailable", err.message);
    assert.match(err.message, new RegExp(`^builder node ${a.url} was lost mid-build: .*\\(no other healthy builder node is left\\)$`));
    assert.ok(waited <= hungNodeDeadlineMs, `the build failed ${waited} ms after the node hung, past ${hungNodeDeadlineMs} ms`);
  } finally {
    await builder.close();
  }
});

test("a node that hangs mid-build (SIGSTOP) is replaced by another node that finishes the build", async () => {
  const [a, b] = await nodes(2);
  assert.ok(a && b);
  const builder = createDelegateBuilder({ urls: [a.url, b.url], token: new Secret(token), checkDigest });
  try {
    const rec = recorder();
    const job = makeJob({ registry: plainTarget(registry.host), dockerfile: sleepingDockerfile(3) });
    const hang = onLog(`start-${job.marker}`, () => void started.find((n) => n.url === rec.nodes().at(-1))?.child.kill("SIGSTOP"));
    const outcome = await builder.build(job, (p) => (rec.onProgress(p), hang(p)), AbortSignal.timeout(60_000));
    assert.equal(outcome.digest, await checkDigest(job.reference, plainTarget(registry.host), AbortSignal.timeout(5000)));
    const [first, second] = rec.nodes();
    assert.equal(rec.nodes().length, 2);
    assert.ok(first && second);
    assert.notEqual(first, second);
    assert.equal(await processState(started.find((n) => n.url === first)), "T", "the first node is hung, not dead");
    assert.match(rec.logs(), new RegExp(`builder node ${first} was lost mid-build: .*; trying another builder node`));
  } finally {
    await builder.close();
  }
});
