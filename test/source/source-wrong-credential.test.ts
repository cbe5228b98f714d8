import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { observeGitSpawns } from "../../libs/git/run-git.js";
import { filesUnder, procCmdlines, startHttpGit, type HttpGit } from "./git-fixtures.js";
import { makeServedRepo, sourceClient, tempDir } from "./source-harness.js";

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });
const PASSWORD = "right-pw-41c7e2";
const WRONG = "wrong-pw-9b3f06-token";



/** Files of the per-operation git environments (askpass helper, keys) still in the temp folder. */
function gitEnvFiles(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith("buildplane-git-")).flatMap((n) => {
    try { return filesUnder(join(tmpdir(), n)); } catch { return []; }
  });
}

describe("source service: a wrong git password over http", () => {
  let http: HttpGit;
  let url = "";
  let first = "";
  before(async () => {
    // Per-operation git environments are made under os.tmpdir(): point it at
    // a folder of this test alone, so other test files' never mix in.
    process.env["TMPDIR"] = tempDir("wrongpw-tmp-", cleanups);
    const base = tempDir("wrongpw-base-", cleanups);
    ({ first } = makeServedRepo(base, tempDir("wrongpw-work-", cleanups)));
    http = await startHttpGit(base, "alice", PASSWORD);
    cleanups.push(() => http.stop());
    url = http.url("app.git");
  });

  it("fails a fetch with Unauthenticated naming the repository, and the password appears in no message, argv, mirror file or leftover file", async () => {
    const data = tempDir("wrongpw-data-", cleanups);
    const client = sourceClient(data);
    const argvs: string[] = [];
    const stop = observeGitSpawns((argv) => argvs.push(argv.join(" ")));
    let seenInProc = false;
    const poll = setInterval(() => { if (procCmdlines().includes(WRONG)) seenInProc = true; }, 5);
    const asked = http.requests.length;
    try {
      // A commit id goes straight to the mirror's fetch (no ls-remote first).
      const call = client.describe({ source: { repository: url, dir: "app", credentials: { username: "alice", password: WRONG } }, commit: first });
      await assert.rejects(call, (err: unknown) => {
        assert.ok(err instanceof ConnectError);
        assert.equal(err.code, Code.Unauthenticated);
        assert.equal(err.rawMessage, `authentication failed for repository "${url}": check the git credentials for it`);
        assert.equal(String(err).includes(WRONG), false);
        assert.equal(JSON.stringify(err).includes(WRONG), false);
        assert.equal(String(err.cause).includes(WRONG), false);
        return true;
      });
    } finally {
      clearInterval(poll);
      stop();
    }
    assert.ok(http.requests.length > asked, "git asked the server");
    assert.ok(argvs.some((a) => a.includes(" fetch ")), argvs.join("\n"));
    assert.equal(argvs.some((a) => a.includes(WRONG)), false);
    assert.equal(seenInProc, false, "the password showed in a process's argv");
    const mirrorFiles = filesUnder(join(data, "git"));
    assert.ok(mirrorFiles.some((f) => f.endsWith("/HEAD")), "the mirror was created");
    for (const f of mirrorFiles) assert.equal(readFileSync(f).includes(WRONG), false, f);
    for (const f of [...gitEnvFiles(), ...filesUnder(join(data, "git"))]) assert.equal(readFileSync(f).includes(WRONG), false, f);
  });
});
