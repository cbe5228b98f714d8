import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { checkDigest, plainTarget } from "./fixtures/build-fixtures.js";
import { openRunMeta, tgz } from "./fixtures/openrun-request.js";
import { startNode, type TestNode } from "./fixtures/start-node.js";
import { removeTestImages, testTag } from "./fixtures/test-images.js";

const token = `tok-${Math.random().toString(36).slice(2)}`;
let registry: TestRegistry;
let node: TestNode;
let dir: TempDir;

before(async () => {
  dir = await tempDir("buildplane-openrun-parity-");
  registry = await startRegistry();
  node = await startNode({ token });
});

after(async () => {
  await node?.stop();
  await registry?.stop();
  await removeTestImages();
  await dir?.remove();
});

/** Sends the form parts in the order given with real `curl -F`, as OpenRun's own clients and operators do. */
async function curlBuild(parts: readonly string[]): Promise<{ status: string; body: string }> {
  const bodyFile = join(dir.path, `answer-${testTag()}.txt`);
  const form = parts.flatMap((p) => ["-F", p]);
  const out = await runCommand("curl", ["-sS", "-o", bodyFile, "-w", "%{http_code}", "-K", "-", ...form, `${node.url}/_openrun/delegate_build`], {
    input: `header = "Authorization: Bearer ${token}"\n`,
  });
  const body = await runCommand("cat", [bodyFile]);
  return { status: out.stdout, body: body.stdout };
}

async function files(marker: string): Promise<{ meta: string; context: string; imageTag: string }> {
  const imageTag = `cli-parity:${testTag()}`;
  const meta = join(dir.path, `meta-${marker}.json`);
  const context = join(dir.path, `ctx-${marker}.tar.gz`);
  await writeFile(meta, JSON.stringify(openRunMeta(imageTag, registry.host)));
  await writeFile(context, await tgz([
    { header: { name: "Dockerfile" }, content: `FROM local/busybox:1\nCOPY hello.txt /hello.txt\nRUN echo ${marker}\n` },
    { header: { name: "hello.txt" }, content: `hello ${marker}\n` },
  ]));
  return { meta, context, imageTag };
}

async function assertPushed(imageTag: string, marker: string): Promise<void> {
  const digest = await checkDigest(`${registry.host}/${imageTag}`, plainTarget(registry.host), AbortSignal.timeout(5000));
  assert.match(digest ?? "", /^sha256:[0-9a-f]{64}$/);
  const run = await runCommand("docker", ["run", "--rm", `${registry.host}/${imageTag}`, "cat", "/hello.txt"]);
  assert.equal(run.stdout, `hello ${marker}\n`);
}

test("a meta part sent as a file (curl -F meta=@meta.json) before the context builds and pushes the image", async () => {
  const f = await files("metafile");
  const res = await curlBuild([`meta=@${f.meta};type=application/json`, `file=@${f.context};type=application/octet-stream`]);
  assert.equal(res.status, "200", res.body);
  await assertPushed(f.imageTag, "metafile");
});

test("a context part sent before the meta part is spooled and built once the meta arrives", async () => {
  const f = await files("filefirst");
  const res = await curlBuild([`file=@${f.context};type=application/octet-stream`, `meta=<${f.meta};type=application/json`]);
  assert.equal(res.status, "200", res.body);
  await assertPushed(f.imageTag, "filefirst");
});

test("a context part before a meta part sent as a file builds too", async () => {
  const f = await files("bothfiles");
  const res = await curlBuild([`file=@${f.context}`, `meta=@${f.meta}`]);
  assert.equal(res.status, "200", res.body);
  await assertPushed(f.imageTag, "bothfiles");
});

test("a request with two meta parts is refused with 400 naming the duplicate", async () => {
  const f = await files("twometa");
  const res = await curlBuild([`meta=@${f.meta}`, `file=@${f.context}`, `meta=<${f.meta}`]);
  assert.equal(res.status, "400");
  assert.equal(res.body, "the request has more than one meta part\n");
});

test("a request whose only part is the context is refused with 400 saying the meta part is missing", async () => {
  const f = await files("nometa");
  const res = await curlBuild([`file=@${f.context}`]);
  assert.equal(res.status, "400");
  assert.equal(res.body, "the request has no meta part\n");
});
