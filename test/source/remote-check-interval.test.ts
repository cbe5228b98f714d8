import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { parseRepository } from "../../libs/git/git-url.js";
import { createRemoteRefsLister } from "../../libs/git/remote-refs.js";
import { observeGitSpawns } from "../../libs/git/run-git.js";
import { createErrorInterceptor } from "../../libs/rpc/errors.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { createSourceService } from "../../services/source/service.js";
import { createSourceCheckout } from "../../services/source/source-checkout.js";
import { git } from "./git-fixtures.js";
import { tempDir } from "./source-harness.js";

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

/** A repository with one commit on main, and a way to add the next one. */
function makeRepo(): { url: string; first: string; commit(text: string): string } {
  const work = tempDir("interval-work-", cleanups);
  git(work, "init", "-q", "-b", "main");
  const commit = (text: string): string => {
    writeFileSync(join(work, "file.txt"), text);
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", text);
    return git(work, "rev-parse", "HEAD");
  };
  const first = commit("first\n");
  return { url: `file://${work}`, first, commit };
}

/** Counts the `git ls-remote` runs started while `fn` runs. */
async function countLsRemote<T>(fn: () => Promise<T>): Promise<{ value: T; runs: number }> {
  let runs = 0;
  const stop = observeGitSpawns((argv) => { if (argv[1] === "ls-remote") runs += 1; });
  try {
    return { value: await fn(), runs };
  } finally {
    stop();
  }
}

/** A SourceService client with `[system] git_remote_check_interval_secs` set. */
function sourceClientWithInterval(intervalSecs: number): Client<typeof SourceService> {
  const checkout = createSourceCheckout({
    gitRoot: join(tempDir("interval-data-", cleanups), "git"),
    cacheEntries: 0,
    remoteCheckIntervalSecs: intervalSecs,
    operationTimeoutSecs: 600,
    gitAuth: {},
    defaultGitAuth: "",
  });
  const transport = createRouterTransport(
    (router) => router.service(SourceService, createSourceService({ checkout })),
    { router: { interceptors: [createErrorInterceptor(silentLogger)] } },
  );
  return createClient(SourceService, transport);
}

describe("git_remote_check_interval_secs: reuse of ls-remote results", () => {
  it("runs ls-remote once within the interval and again once it has passed", async () => {
    const repo = makeRepo();
    let clock = 1_000_000;
    const lister = createRemoteRefsLister({ root: tempDir("interval-root-", cleanups), reuseMs: 60_000, timeoutMs: 0, now: () => clock });
    const parsed = parseRepository(repo.url);
    const main = async () => (await lister.list(parsed, undefined)).get("refs/heads/main");

    const first = await countLsRemote(main);
    assert.deepEqual(first, { value: repo.first, runs: 1 });

    const second = repo.commit("second\n");
    clock += 59_999;
    assert.deepEqual(await countLsRemote(main), { value: repo.first, runs: 0 }, "within the interval the earlier listing is reused");

    clock += 1;
    assert.deepEqual(await countLsRemote(main), { value: second, runs: 1 }, "once the interval has passed the remote is asked again");
    assert.deepEqual(await countLsRemote(main), { value: second, runs: 0 }, "and that new listing is reused in turn");
  });

  it("runs ls-remote on every request when the interval is 0", async () => {
    const repo = makeRepo();
    const lister = createRemoteRefsLister({ root: tempDir("interval-root-", cleanups), reuseMs: 0, timeoutMs: 0, now: () => 1_000_000 });
    const parsed = parseRepository(repo.url);
    const main = async () => (await lister.list(parsed, undefined)).get("refs/heads/main");
    assert.deepEqual(await countLsRemote(main), { value: repo.first, runs: 1 });
    const second = repo.commit("second\n");
    assert.deepEqual(await countLsRemote(main), { value: second, runs: 1 });
  });

  it("is what the source service uses to resolve a branch", async () => {
    const repo = makeRepo();
    const resolve = (client: Client<typeof SourceService>) => async () => (await client.resolveRevision({ source: { repository: repo.url, ref: "main" } })).commit;
    const hourly = sourceClientWithInterval(3600);
    const always = sourceClientWithInterval(0);
    assert.deepEqual(await countLsRemote(resolve(hourly)), { value: repo.first, runs: 1 });
    assert.deepEqual(await countLsRemote(resolve(always)), { value: repo.first, runs: 1 });

    const second = repo.commit("second\n");
    assert.deepEqual(await countLsRemote(resolve(hourly)), { value: repo.first, runs: 0 }, "a branch moved within the interval is not seen yet");
    assert.deepEqual(await countLsRemote(resolve(always)), { value: second, runs: 1 });
  });
});
