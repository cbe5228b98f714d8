import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { freePort } from "../helpers/free-port.js";
import { Secret } from "../../libs/secret/secret.js";
import { createDelegateBuilder } from "../../services/builder/delegate/delegate-builder.js";
import { createGrpcNode } from "../../services/builder/delegate/grpc-node.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { checkDigest, makeJob, plainTarget } from "./fixtures/build-fixtures.js";
import { openRunMeta, openRunRequest, tgz } from "./fixtures/openrun-request.js";
import { NodeStartError, startNode, type TestNode } from "./fixtures/start-node.js";
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

async function node(options: Parameters<typeof startNode>[0]): Promise<TestNode> {
  const n = await startNode(options);
  started.push(n);
  return n;
}

type CodedError = Error & { code?: string };

async function refused(urls: string[], sentToken: string, expect: { code: string; message: RegExp }, options: { maxUploadBytes?: number; big?: boolean } = {}): Promise<void> {
  const builder = createDelegateBuilder({ urls, token: new Secret(sentToken), checkDigest, pollIntervalMs: 60_000, ...(options.maxUploadBytes ? { maxUploadBytes: options.maxUploadBytes } : {}) });
  try {
    const job = makeJob({ registry: plainTarget(registry.host), ...(options.big ? { files: { "big.bin": Buffer.alloc(3 * 1024 * 1024, 1) } } : {}) });
    await assert.rejects(builder.build(job, () => undefined, new AbortController().signal), (err: CodedError) => {
      assert.equal(err.code, expect.code);
      assert.match(err.message, expect.message);
      assert.equal(err.message.includes(sentToken), false);
      return true;
    });
  } finally {
    await builder.close();
  }
}

test("a wrong token is refused with unauthenticated and neither token appears in a message or in the node's output", async () => {
  const n = await node({ token });
  const wrong = `wrong-${Math.random().toString(36).slice(2)}`;
  await refused([n.url], wrong, { code: "unauthenticated", message: new RegExp(`^builder node ${n.url}: .*builder_auth_token`) });
  await n.stop();
  assert.match(n.output(), /buildplane listening on/);
  assert.equal(n.output().includes(wrong), false, "the wrong token is in the node's output");
  assert.equal(n.output().includes(token), false, "the node's token is in its output");
});

test("a node without admin_over_tcp refuses delegated builds with permission denied naming the setting, on gRPC and OpenRun's endpoint", async () => {
  const n = await node({ token, adminOverTcp: false });
  await refused([n.url], token, { code: "permissionDenied", message: /delegated builds over TCP need \[security\] admin_over_tcp = true/ });
  const res = await openRunRequest(n.url, { token, meta: openRunMeta("cli-refused:0000000000000000", registry.host), file: await tgz([{ header: { name: "Dockerfile" }, content: "FROM local/busybox:1\n" }]) });
  assert.equal(res.status, 403);
  assert.equal(res.body, "delegated builds over TCP need [security] admin_over_tcp = true on this builder node\n");
});

test("a node with admin_over_tcp but no token does not start and says what to set", async () => {
  await assert.rejects(startNode({ adminOverTcp: true }), (err: unknown) => {
    assert.ok(err instanceof NodeStartError, String(err));
    assert.notEqual(err.exitCode, 0);
    assert.equal(err.signal, null);
    assert.match(err.output, /security\.admin_over_tcp = true needs a token for delegated builds: set \[system\] builder_auth_token/);
    assert.doesNotMatch(err.output, /buildplane listening on/);
    return true;
  });
});

test("a context over the main install's upload limit fails with resource exhausted", async () => {
  const n = await node({ token });
  await refused([n.url], token, { code: "resourceExhausted", message: /builder\.max_upload_bytes \(1048576 bytes\)/ }, { maxUploadBytes: 1024 * 1024, big: true });
});

test("a context over the node's upload limit fails with resource exhausted", async () => {
  const n = await node({ token, maxUploadBytes: 1024 * 1024 });
  await refused([n.url], token, { code: "resourceExhausted", message: /builder\.max_upload_bytes \(1048576 bytes\)/ }, { big: true });
});

const ecrHost = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

/** Sends a build naming `ecrHost` as an `ecr` registry straight to a node, as a main install never does. */
async function buildToEcr(n: TestNode): Promise<CodedError> {
  const grpc = createGrpcNode({ url: n.url, token: new Secret(token) });
  const ecr = { ...plainTarget(ecrHost), insecure: false, type: "ecr" as const, awsRegion: "eu-west-1" };
  try {
    const { context, ...job } = makeJob({ registry: ecr });
    const chunks = async function* (): AsyncGenerator<Uint8Array> {
      for await (const c of context) yield c as Uint8Array;
    };
    const err = await grpc.build({ job, registry: ecr, context: chunks }, () => undefined, new AbortController().signal).then(
      () => undefined,
      (e: unknown) => e as CodedError,
    );
    assert.ok(err, "the build must not succeed: no AWS here");
    return err;
  } finally {
    await grpc.close();
  }
}

test("a build naming an ecr registry is refused with invalid argument: the main install must resolve ECR tokens", async () => {
  const n = await node({ token });
  const err = await buildToEcr(n);
  assert.equal(err.code, "invalidArgument");
  assert.equal(
    err.message,
    `builder node ${n.url}: registry "${ecrHost}" of type ecr is refused: this builder uses its AWS identity only for its own [registry] (type ecr); the main install must resolve ECR tokens and send user AWS with the token as the password`,
  );
});

test("a split deployment's builder whose own [registry] is that ECR registry lets the build through (it then fails only for want of AWS credentials)", async () => {
  const n = await node({ token, ecrRegistry: ecrHost });
  const err = await buildToEcr(n);
  assert.notEqual(err.code, "invalidArgument", err.message);
  assert.doesNotMatch(err.message, /is refused/);
});

test("with no node reachable the build fails with unavailable listing the nodes", async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  await refused([url], token, { code: "unavailable", message: new RegExp(`^no builder node could run the build: ${url}: `) });
});
