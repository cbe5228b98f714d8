import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { tempDir } from "../helpers/temp-dir.js";
import { makeAppRepo, removeImages, runImage } from "./app-fixture.js";
import { cliEnv, listBuilds, repoRoot } from "./cli-process.js";

interface LastEvent {
  readonly type: string;
  readonly image?: string;
  readonly cached?: boolean;
  readonly buildId?: string;
  readonly message?: string;
}

/** Runs the ensure-many fixture: `count` concurrent EnsureImage calls in one new process. */
function ensureMany(repository: string, count: number, env: NodeJS.ProcessEnv): Promise<(LastEvent & { readonly stderr?: string })[]> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "test/e2e/fixtures/ensure-many.ts"), repository, "app", String(count)], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  return new Promise((res, rej) =>
    child.on("close", (code) => {
      // A call that failed carries the process's log, where the server side of an internal error is.
      if (code === 0) res((JSON.parse(stdout) as LastEvent[]).map((e) => (e.type === "ready" ? e : { ...e, stderr })));
      else rej(new Error(`ensure-many exited with ${String(code)}:\n${stdout}\n${stderr}`));
    }),
  );
}

describe("concurrent EnsureImage calls", () => {
  it("builds once for 20 identical calls from 4 processes sharing one data dir, and every caller gets the same image", async (t) => {
    const repo = await makeAppRepo({
      "app/Containerfile": "FROM local/busybox:1\nCOPY nonce.txt /nonce.txt\nRUN sleep 2 && cat /nonce.txt > /built.txt\nCMD [\"cat\", \"/built.txt\"]\n",
    });
    const data = await tempDir("buildplane-e2e-data-");
    const images: string[] = [];
    t.after(async () => {
      await removeImages("docker", images);
      await repo.remove();
      await data.remove();
    });
    const env = cliEnv(data.path);
    const results = (await Promise.all([1, 2, 3, 4].map(() => ensureMany(repo.url, 5, env)))).flat();

    assert.equal(results.length, 20);
    for (const r of results) if (r.image) images.push(r.image);
    const image = results.find((r) => r.image)?.image ?? "";
    for (const r of results) {
      assert.equal(r.type, "ready", JSON.stringify(r));
      assert.equal(r.image, image);
    }
    const records = await listBuilds(env);
    assert.equal(records.length, 1, `exactly one build: ${JSON.stringify(records)}`);
    assert.equal(records[0]?.status, "succeeded");
    const built = results.filter((r) => r.cached === false);
    assert.ok(built.length >= 1, "at least the builder's own callers see cached:false");
    for (const r of built) assert.equal(r.buildId, records[0]?.id);
    assert.equal((await runImage(image)).trim(), repo.nonce);
  });
});
