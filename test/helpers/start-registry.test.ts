import assert from "node:assert/strict";
import { request } from "node:https";
import { after, describe, it } from "node:test";
import { startRegistry, type TestRegistry } from "./start-registry.js";

interface Reply {
  readonly status: number;
  readonly challenge: string;
}

function get(registry: TestRegistry, path: string, opts: { auth?: string; cert?: boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${registry.url}${path}`, {
      ca: registry.caPem,
      ...(opts.cert === true ? { cert: registry.clientCertPem, key: registry.clientKeyPem } : {}),
      headers: opts.auth === undefined ? {} : { authorization: opts.auth },
    }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, challenge: String(res.headers["www-authenticate"] ?? "") }));
    });
    req.on("error", reject);
    req.end();
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("startRegistry", () => {
  describe("with TLS and htpasswd", async () => {
    const registry = await startRegistry({ tls: true, htpasswd: true });
    after(() => registry.stop());

    it("serves https on a loopback port", () => {
      assert.match(registry.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(registry.caPem, /BEGIN CERTIFICATE/);
    });

    it("answers an unauthenticated /v2/ with 401 and a Basic challenge", async () => {
      const reply = await get(registry, "/v2/");
      assert.equal(reply.status, 401);
      assert.match(reply.challenge, /^Basic realm="buildplane-test"/);
    });

    it("answers /v2/ with 200 for the right user and password", async () => {
      const reply = await get(registry, "/v2/", { auth: basic(registry.username, registry.password) });
      assert.equal(reply.status, 200);
    });

    it("answers /v2/ with 401 for a wrong password", async () => {
      const reply = await get(registry, "/v2/", { auth: basic(registry.username, "wrong") });
      assert.equal(reply.status, 401);
    });
  });

  describe("with a required client certificate", async () => {
    const registry = await startRegistry({ clientCa: true });
    after(() => registry.stop());

    it("rejects a TLS connection without a client certificate", async () => {
      await assert.rejects(get(registry, "/v2/"), (err: NodeJS.ErrnoException) => {
        assert.match(`${err.code ?? ""} ${err.message}`, /certificate|socket hang up|ECONNRESET/i);
        return true;
      });
    });

    it("answers /v2/ with 200 when the client presents its certificate", async () => {
      const reply = await get(registry, "/v2/", { cert: true });
      assert.equal(reply.status, 200);
    });
  });

  it("serves plain http without auth by default and removes its folder on stop", async () => {
    const registry = await startRegistry();
    try {
      assert.match(registry.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${registry.url}/v2/`);
      assert.equal(res.status, 200);
    } finally {
      await registry.stop();
    }
    const { access } = await import("node:fs/promises");
    await assert.rejects(access(registry.dir), { code: "ENOENT" });
  });
});
