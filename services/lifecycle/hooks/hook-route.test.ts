import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Secret } from "../../../libs/secret/secret.js";
import { githubPush } from "../../../test/lifecycle/hook-payloads.js";
import type { FollowedApp, PrebuildTarget } from "./app-match.js";
import { createHookRoute } from "./hook-route.js";

/** The route on a real HTTP server, with the apps and the build starter in memory. */
describe("POST /hooks/git", { timeout: 60_000 }, () => {
  let server: http.Server;
  let url: string;
  let secret: Secret | undefined = new Secret("route-secret");
  const started: PrebuildTarget<FollowedApp>[] = [];
  const logged: [string, Record<string, unknown>][] = [];
  let appsFailure: Error | undefined;
  before(async () => {
    const route = createHookRoute<FollowedApp>({
      settings: () => ({ secret, maxBodyBytes: 4096, bodyTimeoutSecs: 1 }),
      listApps: async () => {
        if (appsFailure) throw appsFailure;
        return [{ id: "web", repository: "https://git.example/app.git", ref: "main" }];
      },
      prebuild: (t) => (started.push(t), { started: true }),
      log: (message, fields) => logged.push([message, fields]),
    });
    server = http.createServer(route((_req, res) => (res.writeHead(418), res.end())));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/git`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it("answers 202 and starts the build of a signed push to a followed branch", async () => {
    const sha = "b".repeat(40);
    const f = githubPush({ cloneUrl: "https://git.example/app.git", ref: "refs/heads/main", after: sha, secret: "route-secret" });
    const res = await fetch(url, { method: "POST", headers: f.headers, body: f.body });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { provider: "github", builds: [{ app: "web", ref: "refs/heads/main", commit: sha, started: true }] });
    assert.deepEqual(started.map((t) => [t.app.id, t.commit]), [["web", sha]]);
  });

  it("accepts GitHub's form-encoded delivery, signed over the form body", async () => {
    const sha = "c".repeat(40);
    const json = githubPush({ cloneUrl: "https://git.example/app.git", ref: "refs/heads/main", after: sha, secret: "route-secret" });
    const body = `payload=${encodeURIComponent(json.body)}`;
    const { createHmac } = await import("node:crypto");
    const headers = { ...json.headers, "content-type": "application/x-www-form-urlencoded", "x-hub-signature-256": `sha256=${createHmac("sha256", "route-secret").update(body).digest("hex")}` };
    const res = await fetch(url, { method: "POST", headers, body });
    assert.equal(res.status, 202);
  });

  it("answers a ping with 200 and builds nothing, an unknown sender with 400, GET with 405, other paths pass on", async () => {
    const before = started.length;
    const ping = await fetch(url, { method: "POST", headers: { "x-github-event": "ping", "x-hub-signature-256": "sha256=" + "0".repeat(64) }, body: "{}" });
    assert.equal(ping.status, 401, "even a ping must be signed");
    const { createHmac } = await import("node:crypto");
    const signed = await fetch(url, { method: "POST", headers: { "x-github-event": "ping", "x-hub-signature-256": `sha256=${createHmac("sha256", "route-secret").update('{"zen":"hi"}').digest("hex")}` }, body: '{"zen":"hi"}' });
    assert.equal(signed.status, 200);
    assert.deepEqual(await signed.json(), { provider: "github", event: "ping", builds: [], message: `event "ping" builds nothing` });
    const unknown = await fetch(url, { method: "POST", body: "{}" });
    assert.equal(unknown.status, 400);
    assert.deepEqual(await unknown.json(), { error: "not a push webhook of a known host: expected X-GitHub-Event, X-Gitlab-Event, X-Gitea-Event or X-Event-Key" });
    assert.equal((await fetch(url)).status, 405);
    assert.equal((await fetch(url.replace("/hooks/git", "/other"), { method: "POST" })).status, 418);
    assert.equal(started.length, before);
  });

  it("answers 408 when the body does not arrive within body_timeout_secs, and 413 past max_body_bytes while it streams", async () => {
    const { hostname, port } = new URL(url);
    const status = (write: (req: http.ClientRequest) => void, headers: http.OutgoingHttpHeaders): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.request({ hostname, port, path: "/hooks/git", method: "POST", headers: { "x-github-event": "push", ...headers } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        });
        req.on("error", reject);
        write(req);
      });
    assert.equal(await status((req) => req.write("{"), { "content-length": "100" }), 408);
    assert.equal(await status((req) => req.write("x".repeat(5000)), { "transfer-encoding": "chunked" }), 413);
  });

  it("answers 503 with a generic message when the apps cannot be listed, and logs the detail without the secret", async () => {
    appsFailure = new Error("[unavailable] metadata service at http://10.0.0.7:25222 not reachable: connect ECONNREFUSED (hook secret route-secret)");
    try {
      const before = started.length;
      const f = githubPush({ cloneUrl: "https://git.example/app.git", ref: "refs/heads/main", after: "e".repeat(40), secret: "route-secret" });
      const res = await fetch(url, { method: "POST", headers: f.headers, body: f.body });
      assert.equal(res.status, 503);
      const body = (await res.json()) as { error: string };
      assert.deepEqual(Object.keys(body), ["error"]);
      const m = /^the webhook could not be handled now: try again later \(incident ([0-9a-f]{8}) in the server log\)$/.exec(body.error);
      assert.ok(m, `generic message, got ${body.error}`);
      assert.equal(started.length, before, "nothing is built");
      assert.deepEqual(logged.at(-1), [
        "webhook failed",
        { provider: "github", incident: m[1], error: "[unavailable] metadata service at http://10.0.0.7:25222 not reachable: connect ECONNREFUSED (hook secret ***)" },
      ]);
    } finally {
      appsFailure = undefined;
    }
  });

  it("answers 404 and reads nothing while no secret is set", async () => {
    secret = undefined;
    const f = githubPush({ cloneUrl: "https://git.example/app.git", ref: "refs/heads/main", after: "d".repeat(40), secret: "" });
    const res = await fetch(url, { method: "POST", headers: f.headers, body: f.body });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: "webhooks are not enabled on this server: set [hooks] secret" });
    secret = new Secret("route-secret");
  });
});
