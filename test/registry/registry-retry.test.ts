import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import type { RegistryError } from "../../libs/registry/errors.js";
import { Secret } from "../../libs/secret/secret.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { bufferBlob, errorWith, optionsFor } from "./fixtures.js";
import { startFailingProxy } from "./failing-proxy.js";

const fast = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };

describe("registry client retries", () => {
  let reg: TestRegistry;
  let authReg: TestRegistry;
  before(async () => {
    reg = await startRegistry();
    authReg = await startRegistry({ htpasswd: true });
  });
  after(async () => { await reg.stop(); await authReg.stop(); });

  it("retries 503 answers with backoff and then succeeds", async () => {
    const proxy = await startFailingProxy(reg.host, 2);
    const retries: Array<[number | undefined, number]> = [];
    const client = createRegistryClient(optionsFor(reg, { url: proxy.host, insecure: true }), {
      retry: fast,
      onRetry: (err, attempt) => retries.push([(err as RegistryError & { status?: number }).status, attempt]),
    });
    try {
      const blob = bufferBlob(randomBytes(32));
      await client.uploadBlob("retry/app", blob);
      assert.equal(await client.hasBlob("retry/app", blob.digest), true);
      assert.deepEqual(retries, [[503, 1], [503, 2]]);
    } finally { client.close(); await proxy.stop(); }
  });

  it("gives up after the last attempt with unavailable naming the registry and status", async () => {
    const proxy = await startFailingProxy(reg.host, 100, 429);
    const client = createRegistryClient(optionsFor(reg, { url: proxy.host, insecure: true }), { retry: fast });
    try {
      await assert.rejects(client.headManifest("retry/app", "t"), errorWith("unavailable", new RegExp(`^registry "${proxy.host}" is unavailable: GET /v2/ answered 429$`)));
      // insecure tries https first (a connection error, retried once per attempt) then http: 4 attempts reach the proxy over http.
      assert.equal(proxy.seen.length, 4);
    } finally { client.close(); await proxy.stop(); }
  });

  it("retries refused connections", async () => {
    const proxy = await startFailingProxy(reg.host, 0);
    await proxy.stop();
    const attempts: number[] = [];
    const counting = createRegistryClient(optionsFor(reg, { url: proxy.host, insecure: true }), { retry: fast, onRetry: (_e, a) => attempts.push(a) });
    try {
      await assert.rejects(counting.ping(), errorWith("unavailable", /ECONNREFUSED/));
      assert.deepEqual(attempts, [1, 2, 3]);
    } finally { counting.close(); }
  });

  it("never retries a 401", async () => {
    const proxy = await startFailingProxy(authReg.host, 0);
    const attempts: number[] = [];
    const client = createRegistryClient(optionsFor(authReg, { url: proxy.host, insecure: true, password: new Secret("bad") }), { retry: fast, onRetry: (_e, a) => attempts.push(a) });
    try {
      await assert.rejects(client.headManifest("a/b", "t"), errorWith("unauthenticated", /rejected the credentials of user "tester"/));
      assert.deepEqual(attempts, []);
      // ping, the HEAD with credentials, and one more after refreshing them.
      assert.deepEqual(proxy.seen, ["GET /v2/", "HEAD /v2/a/b/manifests/t", "HEAD /v2/a/b/manifests/t"]);
    } finally { client.close(); await proxy.stop(); }
  });

  it("never retries a 403 that a proxy of the test's own answers to the manifest HEAD, and reports permissionDenied", async () => {
    const proxy = await startFailingProxy(reg.host, 100, 403, (method) => method === "HEAD");
    const attempts: number[] = [];
    const client = createRegistryClient(optionsFor(reg, { url: proxy.host, insecure: true }), { retry: fast, onRetry: (_e, a) => attempts.push(a) });
    try {
      await assert.rejects(
        client.headManifest("a/b", "t"),
        errorWith("permissionDenied", new RegExp(`^registry "${proxy.host}" denied anonymous access to HEAD /v2/a/b/manifests/t$`)),
      );
      assert.deepEqual(attempts, []);
      assert.deepEqual(proxy.seen, ["GET /v2/", "HEAD /v2/a/b/manifests/t"]);
    } finally { client.close(); await proxy.stop(); }
  });

  it("never retries a 404", async () => {
    const proxy = await startFailingProxy(reg.host, 0);
    const attempts: number[] = [];
    const client = createRegistryClient(optionsFor(reg, { url: proxy.host, insecure: true }), { retry: fast, onRetry: (_e, a) => attempts.push(a) });
    try {
      assert.equal(await client.headManifest("a/b", "t"), undefined);
      assert.deepEqual(attempts, []);
      assert.deepEqual(proxy.seen, ["GET /v2/", "HEAD /v2/a/b/manifests/t"]);
    } finally { client.close(); await proxy.stop(); }
  });
});
