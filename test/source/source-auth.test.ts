import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { observeGitSpawns } from "../../libs/git/run-git.js";
import { Secret } from "../../libs/secret/secret.js";
import { filesUnder, procCmdlines, startHttpGit, type HttpGit } from "./git-fixtures.js";
import { makeServedRepo, sourceClient, tempDir } from "./source-harness.js";

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });
const PASSWORD = "pw-7f3a9c-secret";
const WRONG = "wrong-5d1e-token";



describe("source service: credentials and limits over http", () => {
  let http: HttpGit;
  let url = "";
  let first = "";
  before(async () => {
    const base = tempDir("auth-base-", cleanups);
    ({ first } = makeServedRepo(base, tempDir("auth-work-", cleanups)));
    http = await startHttpGit(base, "alice", PASSWORD);
    cleanups.push(() => http.stop());
    url = http.url("app.git");
  });

  it("fetches with a named git_auth entry and keeps the secret out of argv, /proc and the mirror", async () => {
    const data = tempDir("auth-data-", cleanups);
    const client = sourceClient(data, { gitAuth: { main: { userId: "alice", password: new Secret(PASSWORD), keyFilePath: "", privateKey: undefined, hosts: [new URL(url).host], allowPlaintext: true } }, defaultGitAuth: "main" });
    const argvs: string[] = [];
    const stop = observeGitSpawns((argv) => argvs.push(argv.join(" ")));
    let seenInProc = false;
    const poll = setInterval(() => { if (procCmdlines().includes(PASSWORD)) seenInProc = true; }, 5);
    try {
      const d = await client.describe({ source: { repository: url, ref: "main", dir: "app" } });
      assert.equal(d.commit, first);
    } finally {
      clearInterval(poll);
      stop();
    }
    assert.ok(argvs.some((a) => a.includes(" fetch ")));
    assert.equal(argvs.some((a) => a.includes(PASSWORD)), false);
    assert.equal(seenInProc, false);
    for (const f of filesUnder(join(data, "git"))) assert.equal(readFileSync(f).includes(PASSWORD), false, f);
  });

  it("returns Unauthenticated naming the repository, never the secret, for a wrong password", async () => {
    const client = sourceClient(tempDir("auth-data-", cleanups));
    await assert.rejects(client.resolveRevision({ source: { repository: url, ref: "main", credentials: { username: "alice", password: WRONG } } }), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Unauthenticated);
      assert.equal(err.rawMessage, `authentication failed for repository "${url}": check the git credentials for it`);
      assert.equal(JSON.stringify(err).includes(WRONG), false);
      return true;
    });
  });

  it("moves a password written in the url out of it and out of every message", async () => {
    const client = sourceClient(tempDir("auth-data-", cleanups));
    const withPassword = url.replace("http://", `http://alice:${WRONG}@`);
    await assert.rejects(client.resolveRevision({ source: { repository: withPassword, ref: "main" } }), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Unauthenticated);
      assert.equal(err.rawMessage, `authentication failed for repository "${url}": check the git credentials for it`);
      return true;
    });
  });

  it("returns Unauthenticated when credentials are needed and none are configured", async () => {
    const client = sourceClient(tempDir("auth-data-", cleanups));
    await assert.rejects(client.resolveRevision({ source: { repository: url, ref: "main" } }), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Unauthenticated);
      return true;
    });
  });

  it("returns InvalidArgument for an auth name that is not configured", async () => {
    const client = sourceClient(tempDir("auth-data-", cleanups));
    await assert.rejects(client.resolveRevision({ source: { repository: url, authName: "ghost" } }), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.InvalidArgument);
      assert.equal(err.rawMessage, `git auth "ghost" is not configured: expected one of no entries ([git_auth.<name>] is empty)`);
      return true;
    });
  });

  it("kills git when the caller cancels", async () => {
    const client = sourceClient(tempDir("auth-data-", cleanups));
    const ac = new AbortController();
    const call = client.resolveRevision({ source: { repository: http.url("hang.git"), credentials: { username: "alice", password: PASSWORD } } }, { signal: ac.signal });
    await http.hung.arrived;
    ac.abort();
    await assert.rejects(call, (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Canceled);
      return true;
    });
    await http.hung.closed;
  });

  it("stops git at the operation timeout with DeadlineExceeded", async () => {
    const client = sourceClient(tempDir("auth-data-", cleanups), { timeoutSecs: 1 });
    const hang = http.url("hang.git");
    await assert.rejects(client.resolveRevision({ source: { repository: hang, credentials: { username: "alice", password: PASSWORD } } }), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.DeadlineExceeded);
      assert.equal(err.rawMessage, `git ls-remote for repository "${hang}" took longer than 1s and was stopped`);
      return true;
    });
  });
});
