import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { runTogether, type ProcessOutcome } from "./process-group.js";

const processes = 6;
const branches = 40;
const limit = { timeout: 240_000 };

/** Every process overlapped every other: the latest start is before the earliest end. */
function assertOverlapped(outcomes: readonly ProcessOutcome[]): void {
  const starts = outcomes.map((o) => Number(o.result["start"]));
  const ends = outcomes.map((o) => Number(o.result["end"]));
  assert.ok(Math.max(...starts) < Math.min(...ends), `the processes did not all run at once: starts ${starts.join(",")}, ends ${ends.join(",")}`);
}

/** Moves every `branch-<i>` to `main`, so a fetch has many refs to update. */
async function moveBranches(repo: TestGitRepo): Promise<void> {
  for (let i = 0; i < branches; i++) await repo.git("branch", "--force", `branch-${i}`, "main");
}

describe("processes sharing one data dir", () => {
  let repo: TestGitRepo;
  let data: TempDir;
  before(async () => {
    repo = await makeGitRepo({ "app/Containerfile": "FROM scratch\n", "app/hello.txt": "one\n" });
    await moveBranches(repo);
    data = await tempDir("buildplane-shared-data-");
  });
  after(async () => {
    await repo.remove();
    await data.remove();
  });

  const checkoutRound = async (expected: string) => {
    const outcomes = await runTogether(processes, ["checkout", data.path, repo.url, "main"]);
    for (const o of outcomes) assert.deepEqual({ exitCode: o.exitCode, error: o.result["error"] }, { exitCode: 0, error: undefined });
    assertOverlapped(outcomes);
    const commits = new Set(outcomes.map((o) => o.result["commit"]));
    const contexts = new Set(outcomes.map((o) => o.result["contextSha256"]));
    assert.deepEqual([...commits], [expected], "every process checked out the same commit");
    assert.equal(contexts.size, 1, "every process streamed the same context");
  };

  test("six processes checking out one repository into a new data dir all succeed with the same commit and context", limit, async () => {
    await checkoutRound(repo.commit);
  });

  test("six processes fetching a commit pushed since the last round into the same mirror all succeed", limit, async () => {
    const next = await repo.commitFiles({ "app/hello.txt": "two\n" });
    await moveBranches(repo);
    await checkoutRound(next);
  });

  test("six processes fetching by full commit id, each round a new commit, all succeed", limit, async () => {
    for (let round = 0; round < 2; round++) {
      const next = await repo.commitFiles({ "app/hello.txt": `round ${round}\n` });
      await moveBranches(repo);
      const outcomes = await runTogether(processes, ["checkout", data.path, repo.url, next]);
      for (const o of outcomes) assert.deepEqual({ exitCode: o.exitCode, error: o.result["error"] }, { exitCode: 0, error: undefined });
      assertOverlapped(outcomes);
      assert.deepEqual([...new Set(outcomes.map((o) => o.result["commit"]))], [next]);
    }
  });
});
