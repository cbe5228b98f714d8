import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { freePort } from "../helpers/free-port.js";
import { Secret } from "../../libs/secret/secret.js";
import { createDelegateBuilder } from "../../services/builder/delegate/delegate-builder.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { checkDigest, makeJob, plainTarget } from "./fixtures/build-fixtures.js";
import { startNode, type TestNode } from "./fixtures/start-node.js";

const token = `tok-${Math.random().toString(36).slice(2)}`;
let registry: TestRegistry;
const started: TestNode[] = [];

before(async () => {
  registry = await startRegistry();
});

after(async () => {
  await Promise.all(started.map((n) => n.stop()));
  await registry?.stop();
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

test("a wrong token is refused with unauthenticated and the token appears in no message", async () => {
  const n = await node({ token });
  await refused([n.url], "wrong-token-value", { code: "unauthenticated", message: new RegExp(`^builder node ${n.url}: .*builder_auth_token`) });
});

test("a node without admin_over_tcp refuses delegated builds with permission denied naming the setting", async () => {
  const n = await node({ token, adminOverTcp: false });
  await refused([n.url], token, { code: "permissionDenied", message: /delegated builds over TCP need \[security\] admin_over_tcp = true/ });
});

test("a node with admin_over_tcp but no token does not start and says what to set", async () => {
  await assert.rejects(startNode({ adminOverTcp: true }), /set \[system\] builder_auth_token/);
});

test("a context over the main install's upload limit fails with resource exhausted", async () => {
  const n = await node({ token });
  await refused([n.url], token, { code: "resourceExhausted", message: /builder\.max_upload_bytes \(1048576 bytes\)/ }, { maxUploadBytes: 1024 * 1024, big: true });
});

test("a context over the node's upload limit fails with resource exhausted", async () => {
  const n = await node({ token, maxUploadBytes: 1024 * 1024 });
  await refused([n.url], token, { code: "resourceExhausted", message: /builder\.max_upload_bytes \(1048576 bytes\)/ }, { big: true });
});

test("with no node reachable the build fails with unavailable listing the nodes", async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  await refused([url], token, { code: "unavailable", message: new RegExp(`^no builder node could run the build: ${url}: `) });
});
