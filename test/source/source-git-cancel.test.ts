import assert from "node:assert/strict";
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { createSourceCheckout } from "../../services/source/source-checkout.js";
import { startGatedGitProxy, type GatedGitProxy } from "./gated-git-proxy.js";
import { git, startGitDaemon } from "./git-fixtures.js";
import { makeServedRepo, sourceClient, tempDir } from "./source-harness.js";

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

/** A git process seen in /proc: its id and argv (space-joined). */
interface GitProcess {
  readonly pid: string;
  readonly argv: string;
}

/**
 * Live git processes working in `dataDir` (fetches and `cat-file` run in a
 * mirror under it) or naming `url` in their argv. Zombies have no cwd and
 * an empty cmdline, so only processes still running count.
 */
function gitProcesses(dataDir: string, url = "\0none\0"): GitProcess[] {
  const found: GitProcess[] = [];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").filter((a) => a !== "");
      if (!/(^|\/)git(-[a-z-]+)?$/.test(argv[0] ?? "")) continue;
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd.startsWith(dataDir) || argv.includes(url)) found.push({ pid, argv: argv.join(" ") });
    } catch { /* gone, or not ours to read */ }
  }
  return found;
}

/** Polls until `check` holds, for at most `ms`; returns its last answer. */
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** What a Connect client reports for a call its own signal aborted. */
const aborted = "This operation was aborted";

function rejectsWith(code: Code, message: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, code, err.rawMessage);
    assert.equal(err.rawMessage, message);
    return true;
  };
}

/** Each case ends in seconds; a git process that is never killed fails it here instead of hanging the run. */
const limit = { timeout: 30_000 };

describe("source service: deadlines and cancellation of git work", () => {
  let base = "", bare = "", first = "", daemonPort = 0;
  before(async () => {
    base = tempDir("cancel-base-", cleanups);
    const work = tempDir("cancel-work-", cleanups);
    ({ bare } = makeServedRepo(base, work));
    // A context read in many pieces, so a stream stopped early leaves git mid-way.
    writeFileSync(join(work, "app/big.bin"), Buffer.alloc(16 * 1024 * 1024, 3));
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", "big");
    git(work, "push", "-q", bare, "main");
    first = git(work, "rev-parse", "HEAD");
    const daemon = await startGitDaemon(base);
    cleanups.push(daemon.stop);
    daemonPort = Number(new URL(daemon.url("app.git")).port);
  });

  /** A git:// server of the test's own that accepts and never answers. */
  async function hangingServer(): Promise<GatedGitProxy> {
    const hang = await startGatedGitProxy(0);
    cleanups.push(hang.stop);
    return hang;
  }

  it("stops a fetch from a git:// server that accepts and never answers at git_operation_timeout_secs, leaving no git process", limit, async () => {
    const hang = await hangingServer();
    const url = hang.url("app.git");
    const data = tempDir("cancel-data-", cleanups);
    const client = sourceClient(data, { timeoutSecs: 1 });
    const call = client.describe({ source: { repository: url, dir: "app" }, commit: first });
    await hang.arrived(1);
    assert.equal(gitProcesses(data, url).length, 1, "git fetch runs while the server hangs");
    await assert.rejects(call, rejectsWith(Code.DeadlineExceeded, `git fetch for repository "${url}" took longer than 1s and was stopped`));
    await hang.allClosed();
    assert.deepEqual(gitProcesses(data, url), []);
  });

  it("stops a fetch from a hanging git:// server with DeadlineExceeded when the caller's Connect deadline passes", limit, async () => {
    const hang = await hangingServer();
    const url = hang.url("app.git");
    const data = tempDir("cancel-data-", cleanups);
    const client = sourceClient(data);
    const call = client.describe({ source: { repository: url, dir: "app" }, commit: first }, { timeoutMs: 1500 });
    // The caller's own deadline fires first and is reported by its client; the service must still kill git.
    await assert.rejects(call, rejectsWith(Code.DeadlineExceeded, "the operation timed out"));
    await hang.allClosed();
    assert.ok(await eventually(() => gitProcesses(data, url).length === 0, 10_000), "git fetch was killed");
  });

  it("stops a fetch from a hanging git:// server with Canceled when the caller aborts, leaving no git process", limit, async () => {
    const hang = await hangingServer();
    const url = hang.url("app.git");
    const data = tempDir("cancel-data-", cleanups);
    const client = sourceClient(data);
    const ac = new AbortController();
    const call = client.describe({ source: { repository: url, dir: "app" }, commit: first }, { signal: ac.signal });
    await hang.arrived(1);
    assert.equal(gitProcesses(data, url).length, 1, "git fetch runs while the server hangs");
    ac.abort();
    await assert.rejects(call, rejectsWith(Code.Canceled, aborted));
    await hang.allClosed();
    assert.ok(await eventually(() => gitProcesses(data, url).length === 0, 10_000), "git fetch was killed");
  });

  // A Connect client's stream iterator has no return(): a bare `break` does not
  // end the call, so a caller stops a StreamContext by aborting its signal.
  it("kills git cat-file when the caller aborts a StreamContext after the first chunk", limit, async () => {
    const data = tempDir("cancel-data-", cleanups);
    const client = sourceClient(data);
    const catFile = () => gitProcesses(data).filter((p) => p.argv === "git cat-file --batch");
    const ac = new AbortController();
    let chunks = 0;
    for await (const m of client.streamContext({ source: { repository: bare, dir: "app" }, commit: first }, { signal: ac.signal })) {
      assert.ok(m.chunk.length > 0, "the first message is a piece of the tar");
      chunks++;
      assert.equal(catFile().length, 1, "git cat-file is reading the blobs");
      ac.abort();
      break;
    }
    assert.equal(chunks, 1);
    assert.ok(await eventually(() => catFile().length === 0, 10_000), `left running: ${JSON.stringify(catFile())}`);
  });

  it("kills git cat-file when a reader of the checkout's context stream breaks out after the first chunk", limit, async () => {
    const data = tempDir("cancel-data-", cleanups);
    const checkout = createSourceCheckout({
      gitRoot: join(data, "git"), cacheEntries: 0, remoteCheckIntervalSecs: 0, operationTimeoutSecs: 600, gitAuth: {}, defaultGitAuth: "",
    });
    const catFile = () => gitProcesses(data).filter((p) => p.argv === "git cat-file --batch");
    const src = { repository: bare, ref: "", dir: "app", authName: "", credentials: undefined };
    let chunks = 0;
    for await (const piece of checkout.streamContext(src, first, "")) {
      assert.ok("chunk" in piece, "the first piece is a piece of the tar");
      chunks++;
      assert.equal(catFile().length, 1, "git cat-file is reading the blobs");
      break;
    }
    assert.equal(chunks, 1);
    assert.ok(await eventually(() => catFile().length === 0, 10_000), `left running: ${JSON.stringify(catFile())}`);
  });

  it("keeps a shared fetch running for the caller who stays when the other caller aborts", limit, async () => {
    const slow = await startGatedGitProxy(daemonPort);
    cleanups.push(slow.stop);
    const url = slow.url("app.git");
    const client = sourceClient(tempDir("cancel-data-", cleanups));
    const leaving = new AbortController();
    const req = { source: { repository: url, dir: "app" }, commit: first };
    const left = client.describe(req, { signal: leaving.signal });
    const stays = client.describe(req);
    await slow.arrived(1);
    // Both calls reach the fetch through local steps only (no network); let the second one join.
    await new Promise((r) => setTimeout(r, 300));
    leaving.abort();
    await assert.rejects(left, rejectsWith(Code.Canceled, aborted));
    slow.open();
    const d = await stays;
    assert.equal(d.commit, first);
    assert.equal(d.containerfile, "Containerfile");
    assert.equal(slow.accepted, 1, "one fetch served both callers");
  });

  it("kills a shared fetch once every caller has aborted", limit, async () => {
    const hang = await hangingServer();
    const url = hang.url("app.git");
    const data = tempDir("cancel-data-", cleanups);
    const client = sourceClient(data);
    const a = new AbortController();
    const b = new AbortController();
    const req = { source: { repository: url, dir: "app" }, commit: first };
    const calls = [client.describe(req, { signal: a.signal }), client.describe(req, { signal: b.signal })];
    await hang.arrived(1);
    // As above: let the second caller join the fetch before the first leaves.
    await new Promise((r) => setTimeout(r, 300));
    a.abort();
    await assert.rejects(calls[0] ?? Promise.resolve(), rejectsWith(Code.Canceled, aborted));
    assert.equal(gitProcesses(data, url).length, 1, "the fetch goes on for the caller still waiting");
    b.abort();
    await assert.rejects(calls[1] ?? Promise.resolve(), rejectsWith(Code.Canceled, aborted));
    await hang.allClosed();
    assert.ok(await eventually(() => gitProcesses(data, url).length === 0, 10_000), "git fetch was killed");
    assert.equal(hang.accepted, 1);
  });
});
