// EnsureImage benchmark: a cold EnsureImage (embedded default, new data dir,
// image absent, registry configured) against the pipeline a user would
// script for the same app — `git clone --depth 1` + `docker build` +
// `docker push` — as a ratio from one run each; the cold `buildplane build`
// CLI (process start included); and warm EnsureImage p50/p90 over 20 calls
// (the image exists: resolve the ref, HEAD the manifest).
// Each cold run builds its own commit (a nonce file copied first), so no
// run is served by the engine's layer cache of another.
// Run: node --import tsx test/bench/ensure-image.ts
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openEmbedded } from "../../app/embedded.js";
import { buildEventToJson, type BuildEventJson } from "../../bin/commands/build-events.js";
import { loadConfig } from "../../libs/config/load-config.js";
import { cliEnv, runCli } from "../e2e/cli-process.js";
import { makeGitRepo, type RepoFile } from "../helpers/make-git-repo.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry } from "../helpers/start-registry.js";
import { tempDir } from "../helpers/temp-dir.js";

const WARM_CALLS = 20;
const SOURCE_FILES = 300;

/** A small app: 300 source files (~1.2 MB), a two-stage Containerfile with real RUN work. */
function appFiles(nonce: string): Record<string, RepoFile> {
  const files: Record<string, RepoFile> = {
    "README.md": "bench app\n",
    "app/nonce.txt": `${nonce}\n`,
    "app/.dockerignore": "*.log\n",
    "app/Containerfile": [
      "FROM local/busybox:1 AS build",
      "COPY nonce.txt /nonce.txt",
      "COPY . /src",
      "RUN find /src -type f | sort > /manifest.txt && cat /src/lib/*.txt | wc -c > /size.txt",
      "FROM local/busybox:1",
      "COPY --from=build /manifest.txt /size.txt /app/",
      'CMD ["cat", "/app/size.txt"]',
      "",
    ].join("\n"),
  };
  for (let i = 0; i < SOURCE_FILES; i++) files[`app/lib/m${i}.txt`] = `module ${i}\n${randomBytes(2000).toString("hex")}\n`;
  return files;
}

/** Runs a command and resolves with its wall time in ms. */
async function timed(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<number> {
  const t0 = performance.now();
  await runCommand(command, args, options);
  return performance.now() - t0;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function ensureOnce(resolver: Awaited<ReturnType<typeof openEmbedded>>["resolver"], repository: string): Promise<BuildEventJson> {
  let last: BuildEventJson | undefined;
  for await (const res of resolver.ensureImage({ spec: { source: { repository, dir: "app" } } })) {
    const e = res.event && buildEventToJson(res.event);
    if (e) last = e;
  }
  if (last?.type !== "ready") throw new Error(`EnsureImage did not end ready: ${JSON.stringify(last)}`);
  return last;
}

const registry = await startRegistry();
const repo = await makeGitRepo(appFiles(randomBytes(6).toString("hex")));
const work = await tempDir("bench-ensure-");
const images: string[] = [];
const rows: [string, string][] = [];
try {
  // 1. The raw pipeline on its own commit.
  const rawRef = `${registry.host}/raw/app:${randomBytes(4).toString("hex")}`;
  images.push(rawRef);
  const rawStart = performance.now();
  const clone = await timed("git", ["clone", "--quiet", "--depth", "1", repo.url, join(work.path, "clone")]);
  const build = await timed("docker", ["build", "--quiet", "-t", rawRef, "-f", "Containerfile", "."], { cwd: join(work.path, "clone", "app") });
  const push = await timed("docker", ["push", "--quiet", rawRef]);
  const raw = performance.now() - rawStart;

  // 2. Cold EnsureImage in this process: new data dir, new commit, registry configured.
  await repo.commitFiles({ "app/nonce.txt": `${randomBytes(6).toString("hex")}\n` });
  const dataA = join(work.path, "data-a");
  const env = cliEnv(dataA, { BUILDPLANE_REGISTRY_URL: registry.host, BUILDPLANE_REGISTRY_INSECURE: "true" });
  const coldStart = performance.now();
  const embedded = await openEmbedded(loadConfig({ env }));
  const warm: number[] = [];
  let cold = 0;
  try {
    const ready = await ensureOnce(embedded.resolver, repo.url);
    cold = performance.now() - coldStart;
    if (ready.type !== "ready" || ready.cached) throw new Error("the cold call did not build");
    images.push(ready.image, ready.image.slice(registry.host.length + 1));

    // 3. Warm calls on the same process: the image exists in the registry.
    for (let i = 0; i < WARM_CALLS; i++) {
      const t0 = performance.now();
      const again = await ensureOnce(embedded.resolver, repo.url);
      warm.push(performance.now() - t0);
      if (again.type !== "ready" || !again.cached) throw new Error("a warm call was not served from cache");
    }
  } finally {
    await embedded.close();
  }

  // 4. The CLI, cold: process start, new data dir, new commit.
  await repo.commitFiles({ "app/nonce.txt": `${randomBytes(6).toString("hex")}\n` });
  const envB = cliEnv(join(work.path, "data-b"), { BUILDPLANE_REGISTRY_URL: registry.host, BUILDPLANE_REGISTRY_INSECURE: "true" });
  const cliStart = performance.now();
  const cli = await runCli(["build", repo.url, "--dir", "app", "--json"], envB);
  const cliCold = performance.now() - cliStart;
  if (cli.last?.type !== "ready") throw new Error(`the CLI build failed: ${cli.stdout}\n${cli.stderr}`);
  const cliImage = String(cli.last["image"]);
  images.push(cliImage, cliImage.slice(registry.host.length + 1));

  const ms = (v: number): string => `${v.toFixed(0)} ms`;
  rows.push(
    ["raw: git clone --depth 1", ms(clone)],
    ["raw: docker build", ms(build)],
    ["raw: docker push", ms(push)],
    ["raw pipeline total", ms(raw)],
    ["cold EnsureImage (embedded, new data dir)", ms(cold)],
    ["cold / raw", `${(cold / raw).toFixed(3)} (${(((cold - raw) / raw) * 100).toFixed(1)} %)`],
    ["cold `buildplane build` CLI (process start included)", ms(cliCold)],
    [`warm EnsureImage p50 (${WARM_CALLS} calls)`, ms(percentile(warm, 50))],
    [`warm EnsureImage p90 (${WARM_CALLS} calls)`, ms(percentile(warm, 90))],
  );
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`${"case".padEnd(width)} | result`);
  console.log(`${"-".repeat(width)}-|-${"-".repeat(24)}`);
  for (const [k, v] of rows) console.log(`${k.padEnd(width)} | ${v}`);
} finally {
  for (const ref of new Set(images)) await runCommand("docker", ["rmi", "--force", ref]).catch(() => undefined);
  await registry.stop();
  await repo.remove();
  await work.remove();
}
// Ends explicitly in case an idle socket or timer of the embedded services lingers.
process.exit(0);
