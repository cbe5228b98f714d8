import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Secret } from "../../libs/secret/secret.js";
import { createDelegateBuilder } from "../../services/builder/delegate/delegate-builder.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { checkDigest, makeJob, plainTarget, recorder } from "./fixtures/build-fixtures.js";
import { decompressionBomb, manyEntries, openRunMeta, openRunRequest, tgz } from "./fixtures/openrun-request.js";
import { startNode, type TestNode } from "./fixtures/start-node.js";
import { removeTestImages, testTag } from "./fixtures/test-images.js";

const token = `tok-${Math.random().toString(36).slice(2)}`;
let registry: TestRegistry;
let node: TestNode;
let small: TestNode;
let dir: TempDir;

before(async () => {
  dir = await tempDir("buildplane-openrun-");
  registry = await startRegistry();
  [node, small] = await Promise.all([startNode({ token }), startNode({ token, maxUploadBytes: 256 * 1024 })]);
});

after(async () => {
  await Promise.all([node?.stop(), small?.stop()]);
  await registry?.stop();
  await removeTestImages();
  await dir?.remove();
});

const tag = (): string => `cli-openrun:${testTag()}`;
const goodContext = (marker: string): Promise<Buffer> =>
  tgz([
    { header: { name: "Dockerfile" }, content: `FROM local/busybox:1\nCOPY hello.txt /hello.txt\nRUN echo ${marker}\n` },
    { header: { name: "hello.txt" }, content: `hello ${marker}\n` },
  ]);

test("an OpenRun-format request sent with curl builds and pushes the image", async () => {
  const imageTag = tag();
  await writeFile(join(dir.path, "meta.json"), JSON.stringify(openRunMeta(imageTag, registry.host)));
  await writeFile(join(dir.path, "ctx.tar.gz"), await goodContext("curl"));
  const out = await runCommand("curl", [
    "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Transfer-Encoding: chunked", "-K", "-",
    "-F", `meta=<${join(dir.path, "meta.json")};type=application/json`,
    "-F", `file=@${join(dir.path, "ctx.tar.gz")};type=application/octet-stream`,
    `${node.url}/_openrun/delegate_build`,
  ], { input: `header = "Authorization: Bearer ${token}"\n` });
  assert.equal(out.stdout, "200");
  const digest = await checkDigest(`${registry.host}/${imageTag}`, plainTarget(registry.host), AbortSignal.timeout(5000));
  assert.match(digest ?? "", /^sha256:/);
  const run = await runCommand("docker", ["run", "--rm", `${registry.host}/${imageTag}`, "cat", "/hello.txt"]);
  assert.equal(run.stdout, "hello curl\n");
});

test("a main install delegating to openrun+http gets the image and its digest from the registry", async () => {
  const builder = createDelegateBuilder({ urls: [`openrun+${node.url}`], token: new Secret(token), checkDigest, pollIntervalMs: 60_000 });
  try {
    const job = makeJob({ registry: plainTarget(registry.host) });
    const rec = recorder();
    const outcome = await builder.build(job, rec.onProgress, new AbortController().signal);
    assert.equal(outcome.reference, job.reference);
    assert.equal(outcome.digest, await checkDigest(job.reference, plainTarget(registry.host), AbortSignal.timeout(5000)));
    assert.deepEqual(rec.nodes(), [`openrun+${node.url}`]);
  } finally {
    await builder.close();
  }
});

test("meta.ContainerArgs are plain build args: a RUN step sees the value and the image carries it", async () => {
  const imageTag = tag();
  const value = `arg-${randomBytes(6).toString("hex")}`;
  const file = await tgz([{ header: { name: "Dockerfile" }, content: "FROM local/busybox:1\nARG GREETING\nRUN echo \"$GREETING\" > /greeting.txt\n" }]);
  const res = await openRunRequest(node.url, { token, meta: { ...openRunMeta(imageTag, registry.host), ContainerArgs: { GREETING: value } }, file });
  assert.equal(res.status, 200, res.body);
  const run = await runCommand("docker", ["run", "--rm", `${registry.host}/${imageTag}`, "cat", "/greeting.txt"]);
  assert.equal(run.stdout, `${value}\n`);
});

test("a main install delegating to openrun+http passes plain build args to the RUN steps", async () => {
  const builder = createDelegateBuilder({ urls: [`openrun+${node.url}`], token: new Secret(token), checkDigest, pollIntervalMs: 60_000 });
  try {
    const value = `arg-${randomBytes(6).toString("hex")}`;
    const job = { ...makeJob({ registry: plainTarget(registry.host), dockerfile: "FROM local/busybox:1\nARG GREETING\nRUN echo \"$GREETING\" > /greeting.txt\n" }), args: [{ name: "GREETING", value }] };
    const outcome = await builder.build(job, () => undefined, new AbortController().signal);
    const run = await runCommand("docker", ["run", "--rm", outcome.reference, "cat", "/greeting.txt"]);
    assert.equal(run.stdout, `${value}\n`);
  } finally {
    await builder.close();
  }
});

test("a main install refuses to send a secret build arg to openrun+http, naming the arg and not the value", async () => {
  const builder = createDelegateBuilder({ urls: [`openrun+${node.url}`], token: new Secret(token), checkDigest, pollIntervalMs: 60_000 });
  try {
    const value = `secret-${randomBytes(6).toString("hex")}`;
    const job = { ...makeJob({ registry: plainTarget(registry.host) }), args: [{ name: "API_TOKEN", value: new Secret(value) }] };
    await assert.rejects(builder.build(job, () => undefined, new AbortController().signal), (err: Error & { code?: string }) => {
      assert.equal(err.code, "failedPrecondition");
      assert.equal(
        err.message,
        `secret build arg API_TOKEN cannot be delegated to OpenRun node openrun+${node.url}: OpenRun's protocol has no secret build args and the value would be recorded in the image history`,
      );
      return true;
    });
    assert.equal(await checkDigest(job.reference, plainTarget(registry.host), AbortSignal.timeout(5000)), undefined);
  } finally {
    await builder.close();
  }
});

test("a wrong token gets 401 with a bearer challenge and no token in the answer", async () => {
  const res = await openRunRequest(node.url, { token: "not-the-token", meta: openRunMeta(tag(), registry.host), file: await goodContext("x") });
  assert.equal(res.status, 401);
  assert.equal(res.headers["www-authenticate"], 'Bearer realm="buildplane"');
  assert.equal(res.body, "invalid bearer token\n");
  const none = await openRunRequest(node.url, { meta: openRunMeta(tag(), registry.host) });
  assert.equal(none.status, 401);
  assert.equal(none.body, "missing bearer token\n");
});

test("a method other than POST gets 405", async () => {
  const res = await openRunRequest(node.url, { method: "GET", token });
  assert.equal(res.status, 405);
  assert.equal(res.headers["allow"], "POST");
  assert.match(res.body, /only POST is allowed/);
});

const badRequests: ReadonlyArray<[string, () => Promise<Parameters<typeof openRunRequest>[1]>, RegExp]> = [
  ["meta that is not JSON", async () => ({ rawMeta: "{nope", file: await goodContext("x") }), /^meta part is not valid JSON/],
  ["no meta part", async () => ({ file: await goodContext("x") }), /^the request has no meta part\n$/],
  ["no file part", async () => ({ meta: openRunMeta(tag(), registry.host) }), /^the request has no file part/],
  ["no registry url", async () => ({ meta: openRunMeta(tag(), ""), file: await goodContext("x") }), /^meta\.RegistryConfig\.URL is empty/],
  ["a PasswordFile", async () => ({ meta: openRunMeta(tag(), registry.host, { Username: "u", PasswordFile: "/etc/shadow" }), file: await goodContext("x") }), /^meta\.RegistryConfig\.PasswordFile is refused: .*send the value in Password/],
  ["a CAFile", async () => ({ meta: openRunMeta(tag(), registry.host, { CAFile: "/etc/ssl/ca.pem" }), file: await goodContext("x") }), /^meta\.RegistryConfig\.CAFile is refused/],
  ["type ecr", async () => ({ meta: openRunMeta(tag(), registry.host, { Type: "ECR" }), file: await goodContext("x") }), /^meta\.RegistryConfig\.Type ecr is refused: .*Username AWS/],
  ["a containerfile outside the context", async () => ({ meta: { ...openRunMeta(tag(), registry.host), ContainerFile: "../Dockerfile" }, file: await goodContext("x") }), /^meta\.ContainerFile "\.\.\/Dockerfile" is not valid/],
  ["a file part that is not gzip", async () => ({ meta: openRunMeta(tag(), registry.host), file: Buffer.from("plain text") }), /^file part is not gzip data/],
];
for (const [what, body, message] of badRequests) {
  test(`a request with ${what} gets 400 saying why`, async () => {
    const res = await openRunRequest(node.url, { token, ...(await body()) });
    assert.equal(res.status, 400, res.body);
    assert.match(res.body, message);
  });
}

test("an upload over the node's limit gets 413", async () => {
  const res = await openRunRequest(small.url, { token, meta: openRunMeta(tag(), registry.host), file: await tgz([{ header: { name: "noise" }, content: randomBytes(512 * 1024) }]) });
  assert.equal(res.status, 413);
  assert.match(res.body, /larger than builder\.max_upload_bytes \(262144 bytes\)/);
});

const dockerfile = { header: { name: "Dockerfile" }, content: "FROM local/busybox:1\nCOPY . /ctx\n" };
const malicious: ReadonlyArray<[string, () => Promise<Buffer>, number, RegExp]> = [
  ["a .. entry", () => tgz([dockerfile, { header: { name: "../evil.txt" }, content: "x" }]), 400, /^archive entry "\.\.\/evil\.txt": path escapes the context\n$/],
  ["a nested .. entry", () => tgz([dockerfile, { header: { name: "a/../../evil.txt" }, content: "x" }]), 400, /^archive entry "a\/\.\.\/\.\.\/evil\.txt": path escapes the context\n$/],
  ["an absolute entry", () => tgz([dockerfile, { header: { name: "/tmp/evil.txt" }, content: "x" }]), 400, /^archive entry "\/tmp\/evil\.txt": path is absolute\n$/],
  ["a symlink out", () => tgz([dockerfile, { header: { name: "link", type: "symlink", linkname: "../../etc/passwd" } }]), 400, /^archive entry "link": symlink target "\.\.\/\.\.\/etc\/passwd" points outside the context\n$/],
  ["a symlink chain (a -> ., a/b -> .., b/escaped.txt, h -> b/escaped.txt)", () => tgz([
    dockerfile,
    { header: { name: "a", type: "symlink", linkname: "." } },
    { header: { name: "a/b", type: "symlink", linkname: ".." } },
    { header: { name: "b/escaped.txt" }, content: "x" },
    { header: { name: "h", type: "link", linkname: "b/escaped.txt" } },
  ]), 400, /^archive entry "a\/b": path goes through the symlink "a"\n$/],
  ["a symlink resolving through another symlink", () => tgz([
    dockerfile,
    { header: { name: "a", type: "symlink", linkname: "." } },
    { header: { name: "b", type: "symlink", linkname: "a/.." } },
  ]), 400, /^archive entry "b": symlink target "a\/\.\." climbs with "\.\." after a name/],
  ["a hard link through a symlink", () => tgz([
    dockerfile,
    { header: { name: "d", type: "symlink", linkname: "sub" } },
    { header: { name: "h", type: "link", linkname: "d/x" } },
  ]), 400, /^archive entry "h": hard link target "d\/x" goes through the symlink "d"\n$/],
  ["a hard link out", () => tgz([dockerfile, { header: { name: "hard", type: "link", linkname: "../etc/passwd" } }]), 400, /^archive entry "hard": hard link target "\.\.\/etc\/passwd" escapes the context\n$/],
  ["a device", () => tgz([dockerfile, { header: { name: "dev", type: "character-device", devmajor: 1, devminor: 3 } }]), 400, /^archive entry "dev": character devices are refused\n$/],
  // The node's default limits: 8 GiB unpacked, 200,000 entries.
  ["a decompression bomb", async () => decompressionBomb(8).archive, 413, /the archive holds more than 8589934592 bytes of file contents\n$/],
  ["too many entries", async () => manyEntries(200_000), 413, /^archive entry "f\d+": the archive has more than 200000 entries\n$/],
];
for (const [what, archive, status, message] of malicious) {
  test(`an archive with ${what} is refused`, async () => {
    const imageTag = tag();
    const res = await openRunRequest(node.url, { token, meta: openRunMeta(imageTag, registry.host), file: await archive() });
    assert.equal(res.status, status, res.body);
    assert.match(res.body, message);
    assert.equal(await checkDigest(`${registry.host}/${imageTag}`, plainTarget(registry.host), AbortSignal.timeout(5000)), undefined);
  });
}
