import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { after, before, test } from "node:test";
import { Secret } from "../../libs/secret/secret.js";
import { createDelegateBuilder } from "../../services/builder/delegate/delegate-builder.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { checkDigest, makeJob, plainTarget, tarContext } from "./fixtures/build-fixtures.js";
import { waitFor } from "./fixtures/build-triggers.js";
import { openRunMeta, openRunRequest, tgz } from "./fixtures/openrun-request.js";
import { startNode, type TestNode } from "./fixtures/start-node.js";
import { removeTestImages, testTag } from "./fixtures/test-images.js";

const token = `tok-${Math.random().toString(36).slice(2)}`;
let registry: TestRegistry;
let node: TestNode;
let nodeTmp: TempDir;
let spool: TempDir;

before(async () => {
  registry = await startRegistry();
  [nodeTmp, spool] = await Promise.all([tempDir("buildplane-leftovers-node-"), tempDir("buildplane-leftovers-spool-")]);
  node = await startNode({ token, tmpDir: nodeTmp.path });
});

after(async () => {
  await node?.stop();
  await registry?.stop();
  await removeTestImages();
  await Promise.all([nodeTmp?.remove(), spool?.remove()]);
});

type CodedError = Error & { code?: string };

/** A Dockerfile whose step would print `refused-<marker>`, and 2 MiB of data, so the refusal comes mid-upload. */
function hostileFiles(marker: string): { dockerfile: string; big: Buffer } {
  return { dockerfile: `FROM local/busybox:1\nRUN echo refused-${marker}\n`, big: Buffer.alloc(2 * 1024 * 1024, 7) };
}

/** What the node left of a refused build: temp entries, containers whose command names `marker`, local images named `name`. */
async function leftovers(marker: string, name: string): Promise<{ temp: string[]; containers: string[]; images: string[] }> {
  const temp = (await readdir(nodeTmp.path)).filter((f) => f.startsWith("buildplane-"));
  const ps = await runCommand("docker", ["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Command}}"]);
  const images = await runCommand("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
  return {
    temp,
    containers: ps.stdout.split("\n").filter((l) => l.includes(marker)),
    images: images.stdout.split("\n").filter((ref) => ref === name || ref.endsWith(`/${name}`)),
  };
}

/** Waits for the engine to settle, then asserts that nothing of the refused build is left on the node. */
async function assertNothingLeft(marker: string, name: string): Promise<void> {
  const none = { temp: [], containers: [], images: [] };
  await waitFor("the refused build's leftovers to go", async () => JSON.stringify(await leftovers(marker, name)) === JSON.stringify(none), 10_000).catch(() => undefined);
  assert.deepEqual(await leftovers(marker, name), none);
}

test("a context refused by the node over gRPC leaves no temp entry, container or image on the node and no spool on the main install", async () => {
  const builder = createDelegateBuilder({ urls: [node.url], token: new Secret(token), checkDigest, pollIntervalMs: 60_000, spoolDir: spool.path });
  try {
    const base = makeJob({ registry: plainTarget(registry.host) });
    const { dockerfile, big } = hostileFiles(base.marker);
    const job = { ...base, context: tarContext({ Dockerfile: dockerfile, "big.bin": big, "../escape.txt": "x" }) };
    await assert.rejects(builder.build(job, () => undefined, new AbortController().signal), (err: CodedError) => {
      assert.equal(err.code, "invalidArgument");
      assert.match(err.message, new RegExp(`^builder node ${node.url}: archive entry "\\.\\./escape\\.txt": path escapes the context`));
      return true;
    });
    await assertNothingLeft(job.marker, job.name);
    // The spool folder is removed, and its root with it once empty.
    assert.deepEqual(await readdir(spool.path).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? [] : Promise.reject(e))), []);
    assert.equal(await checkDigest(job.reference, plainTarget(registry.host), AbortSignal.timeout(5000)), undefined);
  } finally {
    await builder.close();
  }
});

test("an archive refused on OpenRun's endpoint leaves no temp entry, container or image on the node", async () => {
  const marker = `m${testTag()}`;
  const name = `cli-leftovers:${testTag()}`;
  const { dockerfile, big } = hostileFiles(marker);
  const file = await tgz([
    { header: { name: "Dockerfile" }, content: dockerfile },
    { header: { name: "big.bin" }, content: big },
    { header: { name: "link", type: "symlink", linkname: "../../etc/passwd" } },
  ]);
  const res = await openRunRequest(node.url, { token, meta: openRunMeta(name, registry.host), file });
  assert.equal(res.status, 400, res.body);
  assert.match(res.body, /^archive entry "link": symlink target "\.\.\/\.\.\/etc\/passwd" points outside the context/);
  await assertNothingLeft(marker, name);
  assert.equal(await checkDigest(`${registry.host}/${name}`, plainTarget(registry.host), AbortSignal.timeout(5000)), undefined);
});
