import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import type { RegistryTarget } from "../../libs/registry/registry-target.js";
import { Secret } from "../../libs/secret/secret.js";
import type { NodeBuild } from "../../services/builder/delegate/builder-node.js";
import { createGrpcNode } from "../../services/builder/delegate/grpc-node.js";
import { checkDigest, makeJob, plainTarget } from "../delegate/fixtures/build-fixtures.js";
import { openRunMeta, openRunRequest, tgz } from "../delegate/fixtures/openrun-request.js";
import { startNode, type TestNode } from "../delegate/fixtures/start-node.js";
import { removeTestImages, testTag } from "../delegate/fixtures/test-images.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";

const token = `tok-${Math.random().toString(36).slice(2)}`;
let registry: TestRegistry;
let node: TestNode;
let open: TestNode;
/** A stand-in for a host inside the node's network that no caller may make it push to. */
let internal: http.Server;
let internalHost: string;
const internalRequests: string[] = [];
const victim = `cli-victim:${testTag()}`;

before(async () => {
  internal = http.createServer((req, res) => {
    internalRequests.push(`${req.method} ${req.url}`);
    res.writeHead(401, { "www-authenticate": 'Basic realm="internal"' }).end();
  });
  await new Promise<void>((resolve) => internal.listen(0, "127.0.0.2", resolve));
  internalHost = `127.0.0.2:${(internal.address() as AddressInfo).port}`;
  registry = await startRegistry();
  [node, open] = await Promise.all([startNode({ token, allowedRegistries: [registry.host] }), startNode({ token })]);
  await runCommand("docker", ["tag", "local/busybox:1", victim]);
});

after(async () => {
  await Promise.all([node?.stop(), open?.stop()]);
  await registry?.stop();
  await new Promise((resolve) => internal?.close(resolve));
  await removeTestImages([victim]);
});

type CodedError = Error & { code?: string };

/** Sends one build straight to a node over gRPC, with the image names and destination a caller chooses. */
async function buildOn(n: TestNode, names: { name: string; reference: string }, target: RegistryTarget): Promise<CodedError | undefined> {
  const grpc = createGrpcNode({ url: n.url, token: new Secret(token) });
  try {
    const { context, ...job } = makeJob({ registry: plainTarget(registry.host) });
    const chunks = async function* (): AsyncGenerator<Uint8Array> {
      for await (const c of context) yield c as Uint8Array;
    };
    const build: NodeBuild = { job: { ...job, ...names, registry: target }, registry: target, context: chunks };
    return await grpc.build(build, () => undefined, new AbortController().signal).then(
      () => undefined,
      (e: unknown) => e as CodedError,
    );
  } finally {
    await grpc.close();
  }
}

const imageId = async (ref: string): Promise<string> => (await runCommand("docker", ["image", "inspect", "--format", "{{.Id}}", ref])).stdout.trim();

test("a build pushing to a host outside allowed_registries is refused with permission denied naming the host and the key, and the host is never contacted", async () => {
  const reference = `${internalHost}/delegate/cli-app:${testTag()}`;
  const err = await buildOn(node, { name: "cli-app:0", reference }, plainTarget(internalHost));
  assert.ok(err, "the build must be refused");
  assert.equal(err.code, "permissionDenied");
  assert.equal(
    err.message,
    `builder node ${node.url}: registry host "${internalHost}" is not in [builder] allowed_registries of this builder node: expected one of ${registry.host}`,
  );
  assert.deepEqual(internalRequests, []);
});

test("a build whose reference names no registry host cannot re-tag an image of the node's engine", async () => {
  const before = await imageId(victim);
  const err = await buildOn(open, { name: victim, reference: "" }, plainTarget(registry.host));
  assert.ok(err, "the build must be refused");
  assert.equal(err.code, "invalidArgument");
  assert.equal(
    err.message,
    `builder node ${open.url}: image reference "${victim}" is not valid: it has no registry host (the first component needs a "." or ":port"); expected <registry-host>/<repository>:<tag>, such as registry.example.com:5000/project/cli-app:0123456789abcdef`,
  );
  assert.equal(await imageId(victim), before);
});

test("a build whose reference names another registry than the one it is pushed to is refused with invalid argument", async () => {
  const reference = `${internalHost}/delegate/cli-app:${testTag()}`;
  const err = await buildOn(open, { name: "cli-app:0", reference }, plainTarget(registry.host));
  assert.ok(err, "the build must be refused");
  assert.equal(err.code, "invalidArgument");
  assert.equal(
    err.message,
    `builder node ${open.url}: image reference "${reference}" does not name the registry it is pushed to: expected it to start with ${registry.host}/`,
  );
  assert.deepEqual(internalRequests, []);
});

test("a build to an allowed registry is tagged on the node only under its registry-qualified reference", async () => {
  const name = `cli-allowed:${testTag()}`;
  const reference = `${registry.host}/delegate/${name}`;
  const err = await buildOn(node, { name, reference }, plainTarget(registry.host));
  assert.equal(err, undefined, err?.message);
  assert.match((await checkDigest(reference, plainTarget(registry.host), AbortSignal.timeout(5000))) ?? "", /^sha256:/);
  const local = await runCommand("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "--filter", `reference=${name}`]);
  assert.equal(local.stdout.trim(), "", "the short name must not exist on the node's engine");
});

test("OpenRun's endpoint refuses a registry outside allowed_registries with 403 naming the host and the key", async () => {
  const file = await tgz([{ header: { name: "Dockerfile" }, content: "FROM local/busybox:1\n" }]);
  const res = await openRunRequest(node.url, { token, meta: openRunMeta(`cli-app:${testTag()}`, internalHost), file });
  assert.equal(res.status, 403);
  assert.equal(res.body, `registry host "${internalHost}" is not in [builder] allowed_registries of this builder node: expected one of ${registry.host}\n`);
  assert.deepEqual(internalRequests, []);
});

test("OpenRun's endpoint refuses a Docker Hub short-name host, which would re-tag a local image, with 400", async () => {
  const file = await tgz([{ header: { name: "Dockerfile" }, content: "FROM local/busybox:1\n" }]);
  const res = await openRunRequest(open.url, { token, meta: openRunMeta("busybox:latest", "docker.io", { Project: "library" }), file });
  assert.equal(res.status, 400);
  assert.equal(
    res.body,
    `image reference "docker.io/library/busybox:latest" is not valid: registry host "docker.io" is one the engine stores under short names, so the tag would replace a local image; expected <registry-host>/<repository>:<tag>, such as registry.example.com:5000/project/cli-app:0123456789abcdef\n`,
  );
});
