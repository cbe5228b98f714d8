import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { runCommand } from "../helpers/run-command.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { makeAppRepo, removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, listBuilds, repoRoot, runCli, startCli } from "../e2e/cli-process.js";
import type { TestGitRepo } from "../helpers/make-git-repo.js";
import { logTexts, missingFrom, storedLog } from "./fault-kit.js";

const fixture = join(dirname(fileURLToPath(import.meta.url)), "fixtures/git-http-server.ts");
const limit = { timeout: 240_000 };

/** A git server process and the JSON lines it printed so far. */
interface GitServer {
  readonly child: ChildProcess;
  readonly port: number;
  /** Resolves when it next starts sending a pack. */
  nextServing(): Promise<void>;
}

async function startGitServer(base: string, port = 0): Promise<GitServer> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, base, String(port)], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const waiting = new Set<() => void>();
  const listening = new Promise<number>((resolve, reject) => {
    lines.on("line", (line) => {
      const m = JSON.parse(line) as { port?: number; serving?: string };
      if (m.port !== undefined) resolve(m.port);
      if (m.serving !== undefined) for (const w of waiting) w();
      if (m.serving !== undefined) waiting.clear();
    });
    child.once("exit", (code) => reject(new Error(`git server exited with ${String(code)} before listening`)));
  });
  return { child, port: await listening, nextServing: () => new Promise<void>((r) => waiting.add(r)) };
}

function kill(server: GitServer | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => server.child.once("exit", () => r()));
  server.child.kill("SIGKILL");
  return exited;
}

describe("the git server gone mid-fetch (its process SIGKILLed while it sends a pack)", () => {
  let repo: TestGitRepo & { readonly nonce: string };
  let bare: TempDir;
  let data: TempDir;
  let git: GitServer | undefined;
  const images: string[] = [];
  before(async () => {
    repo = await makeAppRepo();
    bare = await tempDir("buildplane-fault-git-");
    data = await tempDir("buildplane-fault-data-");
    await runCommand("git", ["clone", "--quiet", "--bare", repo.path, join(bare.path, "app.git")]);
    git = await startGitServer(bare.path);
  });
  after(async () => {
    await kill(git);
    await removeImages("docker", images);
    await repo.remove();
    await bare.remove();
    await data.remove();
  });

  test("the caller gets unavailable naming the repository, the mirror keeps no partial object, and the next fetch once the server is back works", limit, async (t) => {
    const env = cliEnv(data.path);
    const url = `http://127.0.0.1:${git?.port ?? 0}/app.git`;
    const args = ["build", url, "--dir", "app", "--json"];
    const push = async () => runCommand("git", ["-C", repo.path, "push", "--quiet", "--force", join(bare.path, "app.git"), "main"]);

    const first = await runCli(args, env);
    assert.equal(first.code, 0, describeRun(first));
    images.push(String(first.last?.["image"]));

    // A commit whose pack takes seconds to send.
    await repo.commitFiles({ "app/big.txt": randomBytes(1_500_000).toString("base64"), "app/nonce.txt": `${repo.nonce}-2\n` });
    await push();
    const serving = git?.nextServing();
    const caller = startCli(args, env);
    await serving;
    await kill(git);
    const cut = await caller.done;
    assert.equal(cut.code, 1, describeRun(cut));
    assert.equal(cut.last?.type, "failed", describeRun(cut));
    assert.equal(cut.last["code"], "unavailable", describeRun(cut));
    assert.match(String(cut.last["message"]), new RegExp(`^git fetch for repository "${url.replace(/\./g, "\\.")}" failed: `), describeRun(cut));
    t.diagnostic(`caller saw: ${String(cut.last["message"])}`);

    const mirrors = (await readdir(join(data.path, "git"))).filter((n) => /^[0-9a-f]{64}$/.test(n));
    assert.equal(mirrors.length, 1);
    for (const m of mirrors) {
      const objects = await readdir(join(data.path, "git", m, "objects"), { recursive: true });
      assert.deepEqual(objects.filter((f) => /(^|\/)tmp_|incoming-/.test(f)), [], "no partial object or pack is left");
      await runCommand("git", ["--git-dir", join(data.path, "git", m), "fsck", "--no-progress"]);
    }

    git = await startGitServer(bare.path, git?.port);
    const next = await runCli(args, env);
    assert.equal(next.code, 0, describeRun(next));
    assert.equal(next.last?.type, "ready", describeRun(next));
    assert.equal(next.last["cached"], false);
    images.push(String(next.last["image"]));

    const records = await listBuilds(env);
    assert.deepEqual(records.map((r) => [r.id, r.status]), [[next.last["buildId"], "succeeded"], [first.last?.["buildId"], "succeeded"]]);
    assert.deepEqual(missingFrom(await storedLog(env, String(first.last?.["buildId"])), logTexts(first.events)), []);
    assert.deepEqual(missingFrom(await storedLog(env, String(next.last["buildId"])), logTexts(next.events)), []);
  });
});
