// Source-checkout benchmark: a cold mirror clone against a cached-mirror
// update (one new commit) for a repository with 2,000 commits served by
// `git daemon`, and StreamContext throughput and peak memory for a 200 MB
// folder, from a git mirror and from a plain folder.
// Run: npx tsx test/bench/source.ts
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { resourceUsage } from "node:process";
import type { Client } from "@connectrpc/connect";
import type { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { fixtureEnv, git, startGitDaemon } from "../source/git-fixtures.js";
import { sourceClient } from "../source/source-harness.js";
import { table } from "./fixtures/figures.js";

const COMMITS = 2000;
const HISTORY_FILES = 200;
const BIG_FILES = 4;
const BIG_FILE_MB = 40;
const SMALL_FILES = 4000;
const SMALL_FILE_KB = 10;
const MB = 1024 * 1024;

const root = mkdtempSync(join(tmpdir(), "bench-source-"));
const rows: string[][] = [];

/** Objects held by the only mirror under `<data>/git`. */
function mirrorObjects(data: string): number {
  const gitRoot = join(data, "git");
  const mirror = readdirSync(gitRoot).find((n) => /^[0-9a-f]{64}$/.test(n));
  if (mirror === undefined) throw new Error(`no mirror under ${gitRoot}`);
  let total = 0;
  for (const line of git(join(gitRoot, mirror), "count-objects", "-v").split("\n")) {
    const [k, v] = line.split(": ");
    if (k === "count" || k === "in-pack") total += Number(v);
  }
  return total;
}

/** A fast-import stream: one commit adding HISTORY_FILES files, then commits changing three files each. */
function historyStream(commits: number, from: string | undefined, seed: number): string {
  let s = "";
  const blob = (path: string, body: string) => `M 100644 inline ${path}\ndata ${Buffer.byteLength(body)}\n${body}\n`;
  for (let i = 0; i < commits; i++) {
    const n = seed + i;
    s += `commit refs/heads/main\ncommitter t <t@example.com> ${1577836800 + n * 60} +0000\ndata ${`change ${n}`.length}\nchange ${n}\n`;
    if (i === 0 && from !== undefined) s += `from ${from}\n`;
    if (n === 0) {
      s += blob("app/Containerfile", "FROM scratch\nCOPY . /src\n");
      for (let f = 0; f < HISTORY_FILES; f++) s += blob(`app/src/m${f % 20}/f${f}.txt`, `file ${f}\n${"x".repeat(800)}\n`);
    } else {
      for (let k = 0; k < 3; k++) {
        const f = (n * 7 + k * 13) % HISTORY_FILES;
        s += blob(`app/src/m${f % 20}/f${f}.txt`, `file ${f} at ${n}\n${randomBytes(400).toString("hex")}\n`);
      }
    }
  }
  return s;
}

function fastImport(bare: string, stream: string): void {
  execFileSync("git", ["fast-import", "--quiet"], { cwd: bare, env: fixtureEnv, input: stream, maxBuffer: 1 << 28 });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function benchHistory(): Promise<void> {
  const base = join(root, "served");
  const bare = join(base, "history.git");
  mkdirSync(bare, { recursive: true });
  git(bare, "init", "-q", "--bare", "-b", "main");
  const build = await timed(async () => fastImport(bare, historyStream(COMMITS, undefined, 0)));
  console.log(`built ${git(bare, "rev-list", "--count", "main")} commits with fast-import in ${build.ms.toFixed(0)} ms`);
  const daemon = await startGitDaemon(base);
  try {
    const url = daemon.url("history.git");
    const plain = join(root, "plain-clone.git");
    const ref = await timed(async () => git(root, "clone", "-q", "--bare", url, plain));
    rows.push(["git clone --bare (reference)", ref.ms.toFixed(0), String(Number(git(plain, "count-objects", "-v").match(/in-pack: (\d+)/)?.[1] ?? 0))]);

    const data = join(root, "data-history");
    const client = sourceClient(data);
    const source = { repository: url, ref: "main", dir: "app" };
    const cold = await timed(() => client.describe({ source }));
    const afterCold = mirrorObjects(data);
    rows.push(["cold mirror clone (Describe)", cold.ms.toFixed(0), String(afterCold)]);

    const same = await timed(() => client.describe({ source }));
    rows.push(["cached mirror, no new commit", same.ms.toFixed(0), String(mirrorObjects(data) - afterCold)]);

    fastImport(bare, historyStream(1, git(bare, "rev-parse", "main"), COMMITS));
    const update = await timed(() => client.describe({ source }));
    if (update.value.commit === cold.value.commit) throw new Error("the update did not see the new commit");
    rows.push(["cached mirror, one new commit", update.ms.toFixed(0), String(mirrorObjects(data) - afterCold)]);
  } finally {
    await daemon.stop();
  }
}

/** Writes `size` random bytes to `path` 1 MiB at a time. */
function writeRandom(path: string, size: number): void {
  const fd = openSync(path, "w");
  try {
    for (let left = size; left > 0; left -= MB) writeSync(fd, randomBytes(Math.min(MB, left)));
  } finally {
    closeSync(fd);
  }
}

/** Reads a whole context stream; returns bytes, MB/s and the highest RSS sampled meanwhile. */
async function drain(client: Client<typeof SourceService>, req: Parameters<Client<typeof SourceService>["streamContext"]>[0]) {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
  let bytes = 0;
  const t0 = performance.now();
  try {
    for await (const m of client.streamContext(req)) {
      bytes += m.chunk.length;
      peak = Math.max(peak, process.memoryUsage().rss);
    }
  } finally {
    clearInterval(sampler);
  }
  const secs = (performance.now() - t0) / 1000;
  return { bytes, mbps: bytes / MB / secs, secs, peak };
}

async function benchContext(): Promise<string[][]> {
  const work = join(root, "big");
  const ctx = join(work, "ctx");
  mkdirSync(join(ctx, "small"), { recursive: true });
  git(work, "init", "-q", "-b", "main");
  git(work, "config", "core.compression", "0");
  writeFileSync(join(ctx, "Containerfile"), "FROM scratch\nCOPY . /\n");
  for (let i = 0; i < BIG_FILES; i++) writeRandom(join(ctx, `big-${i}.bin`), BIG_FILE_MB * MB);
  for (let i = 0; i < SMALL_FILES; i++) {
    const dir = join(ctx, "small", `d${i % 40}`);
    mkdirSync(dir, { recursive: true });
    writeRandom(join(dir, `f${i}.bin`), SMALL_FILE_KB * 1024);
  }
  const commitT = await timed(async () => {
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", "200 MB");
  });
  console.log(`committed the 200 MB folder in ${commitT.ms.toFixed(0)} ms`);
  const commit = git(work, "rev-parse", "HEAD");
  const client = sourceClient(join(root, "data-big"));
  const gitReq = { source: { repository: work, dir: "ctx" }, commit };
  const fill = await timed(() => drain(client, gitReq));
  console.log(`first stream (fills the mirror from the local repository) took ${fill.ms.toFixed(0)} ms`);
  const out: string[][] = [];
  const rss0 = process.memoryUsage().rss;
  const fromGit = await drain(client, gitReq);
  out.push(["git mirror (cat-file --batch)", (fromGit.bytes / MB).toFixed(1), fromGit.secs.toFixed(2), fromGit.mbps.toFixed(0), (rss0 / MB).toFixed(0), (fromGit.peak / MB).toFixed(0)]);
  const rss1 = process.memoryUsage().rss;
  const fromFolder = await drain(client, { source: { repository: ctx } });
  out.push(["plain folder (fs streams)", (fromFolder.bytes / MB).toFixed(1), fromFolder.secs.toFixed(2), fromFolder.mbps.toFixed(0), (rss1 / MB).toFixed(0), (fromFolder.peak / MB).toFixed(0)]);
  return out;
}

try {
  await benchHistory();
  const contextRows = await benchContext();
  console.log(`\nHistory: ${COMMITS} commits, ${HISTORY_FILES} files, over git:// (loopback)`);
  console.log(table(["operation", "wall ms", "objects fetched"], rows));
  console.log(`\nStreamContext: ${BIG_FILES} x ${BIG_FILE_MB} MB random + ${SMALL_FILES} x ${SMALL_FILE_KB} KB random files`);
  console.log(table(["source", "MB", "seconds", "MB/s", "RSS before MB", "peak RSS MB"], contextRows));
  console.log(`\nprocess maxRSS over the whole run: ${(resourceUsage().maxRSS / 1024).toFixed(0)} MB (git child processes not included)`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
