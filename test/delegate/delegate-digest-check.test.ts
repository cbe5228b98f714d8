import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { RegistryTarget } from "../../libs/registry/registry-target.js";
import { Secret } from "../../libs/secret/secret.js";
import { createDelegateBuilder, type CheckDigest } from "../../services/builder/delegate/delegate-builder.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { checkDigest, makeJob, plainTarget, recorder } from "./fixtures/build-fixtures.js";
import { startNode, type TestNode } from "./fixtures/start-node.js";
import { removeTestImages } from "./fixtures/test-images.js";

const token = `tok-${Math.random().toString(36).slice(2)}`;
let registry: TestRegistry;
let node: TestNode;
const pushedByTest: string[] = [];

before(async () => {
  registry = await startRegistry();
  node = await startNode({ token });
});

after(async () => {
  await node?.stop();
  await registry?.stop();
  await removeTestImages(pushedByTest);
});

type CodedError = Error & { code?: string };

/**
 * The main install's digest check, run after something else changed the
 * registry between the node's push and the check: `meddle` gets the
 * reference and the digest the registry held right after the push.
 */
function checkAfter(meddle: (reference: string, target: RegistryTarget, pushed: string) => Promise<void>): CheckDigest {
  return async (reference, target, signal) => {
    const pushed = await checkDigest(reference, target, signal);
    assert.ok(pushed, `the node pushed ${reference}`);
    await meddle(reference, target, pushed);
    return checkDigest(reference, target, signal);
  };
}

/** Pushes busybox over `reference` with the engine, as a concurrent push of another image would. */
async function overwrite(reference: string): Promise<void> {
  pushedByTest.push(reference);
  await runCommand("docker", ["tag", "local/busybox:1", reference]);
  await runCommand("docker", ["push", reference]);
}

/** Deletes the manifest `digest` of `reference` from the registry (the test registry allows deletes). */
async function deleteManifest(reference: string, target: RegistryTarget, digest: string): Promise<void> {
  const repo = reference.slice(target.url.length + 1, reference.lastIndexOf(":"));
  const res = await fetch(`http://${target.url}/v2/${repo}/manifests/${digest}`, { method: "DELETE" });
  assert.equal(res.status, 202, `deleting ${reference} answered ${res.status}`);
}

/** The digest of the node's `pushed` event. */
function pushedDigest(rec: ReturnType<typeof recorder>): string {
  const pushed = rec.events.flatMap((e) => (e.type === "pushed" ? [e.digest] : []));
  assert.equal(pushed.length, 1, "the node reports one push");
  return pushed[0] ?? "";
}

test("a build whose reference holds another digest in the registry than the node reported fails with data loss naming the node, reference and both digests", async () => {
  const builder = createDelegateBuilder({ urls: [node.url], token: new Secret(token), checkDigest: checkAfter((ref) => overwrite(ref)), pollIntervalMs: 60_000 });
  try {
    const job = makeJob({ registry: plainTarget(registry.host) });
    const rec = recorder();
    const err = await builder.build(job, rec.onProgress, new AbortController().signal).then(
      () => assert.fail("the build must fail"),
      (e: unknown) => e as CodedError,
    );
    const reported = pushedDigest(rec);
    const found = await checkDigest(job.reference, plainTarget(registry.host), AbortSignal.timeout(5000));
    assert.match(reported, /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(found, reported);
    assert.equal(err.code, "dataLoss");
    assert.equal(err.message, `builder node ${node.url} reported ${job.reference} as ${reported} but the registry has ${found}`);
  } finally {
    await builder.close();
  }
});

test("a build whose reference is missing from the registry after the node's push fails with data loss naming the node and reference", async () => {
  const builder = createDelegateBuilder({ urls: [node.url], token: new Secret(token), checkDigest: checkAfter(deleteManifest), pollIntervalMs: 60_000 });
  try {
    const job = makeJob({ registry: plainTarget(registry.host) });
    const rec = recorder();
    await assert.rejects(builder.build(job, rec.onProgress, new AbortController().signal), (err: CodedError) => {
      assert.equal(err.code, "dataLoss");
      assert.equal(err.message, `builder node ${node.url} reported pushing ${job.reference} (${pushedDigest(rec)}) but the registry has no such manifest`);
      return true;
    });
  } finally {
    await builder.close();
  }
});

test("an OpenRun node, which reports no digest, fails the build with data loss when the registry lacks the reference", async () => {
  const url = `openrun+${node.url}`;
  const builder = createDelegateBuilder({ urls: [url], token: new Secret(token), checkDigest: checkAfter(deleteManifest), pollIntervalMs: 60_000 });
  try {
    const job = makeJob({ registry: plainTarget(registry.host) });
    await assert.rejects(builder.build(job, () => undefined, new AbortController().signal), (err: CodedError) => {
      assert.equal(err.code, "dataLoss");
      assert.equal(err.message, `builder node ${url} reported pushing ${job.reference} (no digest) but the registry has no such manifest`);
      return true;
    });
  } finally {
    await builder.close();
  }
});
