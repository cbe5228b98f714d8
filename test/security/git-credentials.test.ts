import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import type { GitAuthConfig } from "../../libs/config/config-types.js";
import { Secret } from "../../libs/secret/secret.js";
import { sourceClient, tempDir } from "../source/source-harness.js";

/**
 * Where git credentials may go: a configured `[git_auth.<name>]` entry only
 * to its `hosts`, never in clear without `allow_plaintext`, and no
 * credential — configured, per request or written in the URL — to a host a
 * redirect leads to. Each server here is a plain node HTTP server that
 * records every Authorization header it is sent and answers 401, as a
 * git server asking for credentials would.
 */
const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });
const PASSWORD = "git-tok-4b9e1d";

interface Recorder {
  readonly url: (path: string) => string;
  readonly hostPort: string;
  /** Authorization headers received, "" for a request without one. */
  readonly auth: string[];
}

async function recorder(host: string, handle?: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<Recorder> {
  const auth: string[] = [];
  const server: Server = createServer((req, res) => {
    auth.push(req.headers.authorization ?? "");
    if (handle?.(req, res)) return;
    res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end();
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const hostPort = `${host}:${(server.address() as AddressInfo).port}`;
  return { url: (path) => `http://${hostPort}${path}`, hostPort, auth };
}

/** A server on another loopback address that redirects to `target`, always or once credentials come. */
async function redirector(target: Recorder, when: "always" | "after-auth"): Promise<Recorder> {
  return recorder("127.0.0.1", (req, res) => {
    if (when === "after-auth" && req.headers.authorization === undefined) return false;
    res.writeHead(302, { Location: target.url(req.url ?? "/") }).end();
    return true;
  });
}

const entry = (hosts: string[], allowPlaintext: boolean): Record<string, GitAuthConfig> => ({
  corp: { userId: "alice", password: new Secret(PASSWORD), keyFilePath: "", privateKey: undefined, hosts, allowPlaintext },
});

const basic = `Basic ${Buffer.from(`alice:${PASSWORD}`).toString("base64")}`;

function unauthenticated(repository: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, Code.Unauthenticated);
    assert.equal(err.rawMessage, `authentication failed for repository "${repository}": check the git credentials for it`);
    assert.equal(JSON.stringify(err).includes(PASSWORD), false);
    return true;
  };
}

function refused(repository: string, reason: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, Code.PermissionDenied);
    assert.equal(err.rawMessage, `git auth "corp" is not sent to repository "${repository}": ${reason}`);
    return true;
  };
}

describe("git credentials and the hosts they go to", () => {
  it("a plain-http git server never sees a configured credential without allow_plaintext", async () => {
    const server = await recorder("127.0.0.1");
    const repo = server.url("/app.git");
    const client = sourceClient(tempDir("sec-git-", cleanups), { gitAuth: entry([server.hostPort], false), defaultGitAuth: "corp" });
    await assert.rejects(client.resolveRevision({ source: { repository: repo } }), unauthenticated(repo));
    assert.ok(server.auth.length > 0);
    assert.deepEqual(server.auth.filter((a) => a !== ""), []);

    const before = server.auth.length;
    const reason = `http:// sends it in clear; set [git_auth.corp] allow_plaintext = true to allow it`;
    await assert.rejects(client.resolveRevision({ source: { repository: repo, authName: "corp" } }), refused(repo, reason));
    assert.equal(server.auth.length, before, "a refused entry contacts no server");
  });

  it("sends the entry to a listed plain-http host once allow_plaintext is set", async () => {
    const server = await recorder("127.0.0.1");
    const repo = server.url("/app.git");
    const client = sourceClient(tempDir("sec-git-", cleanups), { gitAuth: entry([server.hostPort], true), defaultGitAuth: "corp" });
    await assert.rejects(client.resolveRevision({ source: { repository: repo } }), unauthenticated(repo));
    assert.ok(server.auth.includes(basic), "the recorder sees a credential that is sent");
  });

  it("a host not in the entry's hosts never sees it", async () => {
    const server = await recorder("127.0.0.1");
    const repo = server.url("/app.git");
    const client = sourceClient(tempDir("sec-git-", cleanups), { gitAuth: entry(["git.example.com", "127.0.0.1"], true), defaultGitAuth: "corp" });
    await assert.rejects(client.resolveRevision({ source: { repository: repo } }), unauthenticated(repo));
    assert.ok(server.auth.length > 0);
    assert.deepEqual(server.auth.filter((a) => a !== ""), []);
    const reason = `host "${server.hostPort}" is not in [git_auth.corp] hosts ("git.example.com", "127.0.0.1")`;
    await assert.rejects(client.resolveRevision({ source: { repository: repo, authName: "corp" } }), refused(repo, reason));
  });

  const carriers: Array<[string, (a: Recorder) => { repository: string; authName?: string; credentials?: { username: string; password: string } }, (a: Recorder) => Record<string, GitAuthConfig>]> = [
    ["a password written in the url", (a) => ({ repository: a.url("/app.git").replace("http://", `http://alice:${PASSWORD}@`) }), () => ({})],
    ["per-request credentials", (a) => ({ repository: a.url("/app.git"), credentials: { username: "alice", password: PASSWORD } }), () => ({})],
    ["a [git_auth] entry for the first host", (a) => ({ repository: a.url("/app.git"), authName: "corp" }), (a) => entry([a.hostPort], true)],
  ];
  for (const [what, source, gitAuth] of carriers) {
    for (const when of ["always", "after-auth"] as const) {
      it(`a redirect to another host (${when === "always" ? "at once" : "once credentials came"}) never carries ${what}`, async () => {
        const other = await recorder("127.0.0.2");
        const first = await redirector(other, when);
        const client = sourceClient(tempDir("sec-git-", cleanups), { gitAuth: gitAuth(first) });
        await assert.rejects(client.resolveRevision({ source: source(first) }), (err: unknown) => {
          assert.ok(err instanceof ConnectError, String(err));
          assert.equal(JSON.stringify(err).includes(PASSWORD), false);
          return true;
        });
        assert.ok(other.auth.length > 0, "git followed the redirect");
        assert.deepEqual(other.auth.filter((a) => a !== ""), []);
        if (when === "after-auth") assert.ok(first.auth.includes(basic), "the first host did get the credential");
      });
    }
  }
});
