// Delegated-build benchmark (issue 7), with the real processes: builder
// nodes (`buildplane serve`), main installs (`buildplane build --json`, no
// engine reachable), a local registry and the local Docker engine.
// 1. Ratio: a small app built cold by a delegating main install against the
//    same CLI in `command` mode on this machine; three trials, alternating
//    which one goes first; each build has its own commit and app id, so
//    neither the registry nor the engine's layer cache serves it.
// 2. A 300 MiB context (6 × 50 MiB random files, committed): delegated wall
//    time and context transfer throughput. The transfer is measured on the
//    node: its /proc/<pid>/io `rchar` (bytes it read from sockets and files)
//    sampled every 20 ms; the window runs from the first sample 1 MiB above
//    the idle value to the first sample 300 MiB above it (the node streams
//    the context to the engine as it arrives, so this is end to end: main
//    install → node → engine). The time from the main install's `started`
//    event naming the node to the node's first log line (the engine logs
//    its first step once it holds the whole context) is shown beside it,
//    and the same 300 MiB build in `command` mode as the local reference.
// 3. Peak memory (VmHWM) of the main install, of its child processes and of
//    the node, for 30 MiB and 300 MiB contexts: each size gets a fresh node.
// MB here means MiB (2^20 bytes). Run: node --import tsx test/bench/delegate.ts
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, readdirSync, writeSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { cliEnv, repoRoot } from "../helpers/buildplane-cli.js";
import { cliPath, ensureBuilt } from "../helpers/ensure-built.js";
import { startNode, type TestNode } from "../delegate/fixtures/start-node.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";

const MiB = 1024 * 1024;
const TRIALS = 3;
const BIG_FILES = 6;
const runId = randomBytes(3).toString("hex");
const appPrefix = `bd${runId}`;
const token = `bench-${randomBytes(16).toString("hex")}`;

/** VmHWM / VmRSS of a process in KiB, or undefined once it is gone. */
function memoryOf(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
    return { hwm: kb("VmHWM"), rss: kb("VmRSS") };
  } catch {
    return undefined;
  }
}

/** Bytes a process read so far (`rchar` of /proc/<pid>/io). */
function bytesRead(pid: number): number {
  return Number(/^rchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? 0);
}

/** Every descendant of a process, from the `children` lists of its threads. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(" ").filter(Boolean).map(Number)) {
        out.push(child, ...descendants(child));
      }
    }
  } catch {
    // the process ended meanwhile
  }
  return out;
}

/** What one `buildplane build --json` run did, with the time each event arrived (ms after spawn). */
interface BuildRun {
  readonly code: number | null;
  readonly wallMs: number;
  readonly events: ReadonlyArray<{ readonly at: number; readonly e: Record<string, unknown> }>;
  readonly output: string;
  /** The main install's last VmHWM read (polled every 20 ms) and the peak summed RSS of its children, KiB. */
  readonly mainHwmKb: number;
  readonly childrenRssKb: number;
  /** The node's rchar window in which the context went through it. */
  readonly transfer?: { readonly ms: number; readonly mib: number };
}

/** Runs the CLI, sampling its memory and (when given) the node's bytes read every 20 ms. */
function build(args: readonly string[], env: NodeJS.ProcessEnv, node?: { pid: number; contextBytes: number }): Promise<BuildRun> {
  ensureBuilt();
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [cliPath, "build", ...args, "--json"], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    const events: { at: number; e: Record<string, unknown> }[] = [];
    let out = "";
    let pending = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      pending += b.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith("{")) events.push({ at: performance.now() - t0, e: JSON.parse(line) as Record<string, unknown> });
    });
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    let mainHwmKb = 0;
    let childrenRssKb = 0;
    const base = node ? bytesRead(node.pid) : 0;
    let from: number | undefined;
    let to: number | undefined;
    const sample = (): void => {
      if (child.pid !== undefined) {
        mainHwmKb = Math.max(mainHwmKb, memoryOf(child.pid)?.hwm ?? 0);
        const sum = descendants(child.pid).reduce((s, pid) => s + (memoryOf(pid)?.rss ?? 0), 0);
        childrenRssKb = Math.max(childrenRssKb, sum);
      }
      if (node && to === undefined) {
        const read = bytesRead(node.pid) - base;
        if (from === undefined && read > MiB) from = performance.now();
        if (read >= node.contextBytes) to = performance.now();
      }
    };
    const timer = setInterval(sample, 20);
    const killOnExit = (): void => void child.kill("SIGKILL");
    process.once("exit", killOnExit);
    child.once("error", reject);
    child.once("close", (code) => {
      clearInterval(timer);
      process.removeListener("exit", killOnExit);
      const transfer = node && from !== undefined && to !== undefined ? { ms: to - from, mib: node.contextBytes / MiB } : undefined;
      resolve({ code, wallMs: performance.now() - t0, events, output: out, mainHwmKb, childrenRssKb, ...(transfer ? { transfer } : {}) });
    });
  });
}

/** The image a run ended with; throws with its output when it did not end `ready` and freshly built. */
function readyImage(run: BuildRun, what: string): string {
  const last = run.events.at(-1)?.e;
  if (run.code !== 0 || last?.["type"] !== "ready" || last["cached"] !== false) throw new Error(`${what} did not build: exit ${String(run.code)}\n${run.output.slice(-4000)}`);
  return String(last["image"]);
}

/** Writes `bytes` random bytes (incompressible) to `path`. */
function writeRandom(path: string, bytes: number): void {
  const fd = openSync(path, "w");
  try { for (let left = bytes; left > 0; left -= MiB) writeSync(fd, randomBytes(Math.min(MiB, left))); } finally { closeSync(fd); }
}

let work: TempDir | undefined;
let registry: TestRegistry | undefined;
const repos: TestGitRepo[] = [];
const nodes: TestNode[] = [];
let configs = 0;

/** A main install's config file: delegating to `nodeUrl`, or building with the local engine. */
async function mainConfig(nodeUrl: string | undefined): Promise<string> {
  if (!work || !registry) throw new Error("not set up");
  const n = ++configs;
  const file = join(work.path, `main-${n}.toml`);
  const builder = nodeUrl ? [`mode = ${JSON.stringify(`delegate:${nodeUrl}`)}`] : ['mode = "command"'];
  const system = nodeUrl ? [`builder_auth_token = ${JSON.stringify(token)}`] : ['container_command = "docker"'];
  const toml = ["[builder]", ...builder, "", "[registry]", `url = ${JSON.stringify(registry.host)}`, 'project = "bench"', "insecure = true", "",
    "[system]", `data_dir = ${JSON.stringify(join(work.path, `data-${n}`))}`, ...system];
  await writeFile(file, `${toml.join("\n")}\n`, { mode: 0o600 });
  return file;
}

const noEngine = (): NodeJS.ProcessEnv => cliEnv({ DOCKER_HOST: "unix:///nonexistent.sock" });
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(" ");
const s = (ms: number): string => (ms / 1000).toFixed(2);
const mb = (kb: number): string => (kb / 1024).toFixed(0);

function table(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]): string => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

/** Ratio trials: the small app, each build on its own commit and app id. */
async function ratioTrials(node: TestNode): Promise<string[][]> {
  const repo = await makeGitRepo({
    Containerfile: "FROM local/busybox:1\nCOPY nonce.txt hello.txt /app/\nRUN wc -c /app/nonce.txt /app/hello.txt && echo built\n",
    "hello.txt": "hello from the bench app\n",
    "nonce.txt": "0\n",
  });
  repos.push(repo);
  const rows: string[][] = [];
  for (let i = 1; i <= TRIALS; i++) {
    const loadBefore = load();
    const once = async (delegated: boolean): Promise<number> => {
      await repo.commitFiles({ "nonce.txt": `${randomBytes(8).toString("hex")}\n` });
      const app = `${appPrefix}-${delegated ? "d" : "l"}${i}`;
      const config = await mainConfig(delegated ? node.url : undefined);
      const run = await build([repo.url, "--app", app, "--config", config], delegated ? noEngine() : cliEnv());
      readyImage(run, `${delegated ? "delegated" : "local"} build ${i}`);
      return run.wallMs;
    };
    const localFirst = i % 2 === 1;
    const first = await once(!localFirst);
    const second = await once(localFirst);
    const [local, delegated] = localFirst ? [first, second] : [second, first];
    rows.push([`trial ${i}`, localFirst ? "local" : "delegated", s(local), s(delegated), (delegated / local).toFixed(3), loadBefore]);
  }
  return rows;
}

/** A repository whose root holds `FROM local/busybox:1` + `COPY . /ctx` and BIG_FILES random files of `totalMiB` in all. */
async function contextRepo(totalMiB: number): Promise<TestGitRepo> {
  const repo = await makeGitRepo({ Containerfile: "FROM local/busybox:1\nCOPY . /ctx\nRUN du -sm /ctx\n" });
  repos.push(repo);
  await repo.git("config", "core.compression", "0");
  for (let i = 0; i < BIG_FILES; i++) writeRandom(join(repo.path, `blob-${i}.bin`), (totalMiB / BIG_FILES) * MiB);
  await repo.commitFiles({}, `${totalMiB} MiB of random files`);
  return repo;
}

/** Memory and transfer figures of one large-context build (KiB; node figures only when delegated). */
interface ContextRun {
  readonly label: string; readonly totalMiB: number; readonly run: BuildRun; readonly loadBefore: string;
  readonly nodeIdleKb?: number; readonly nodeHwmKb?: number; readonly nodeChildrenKb?: number;
}

/** One build of `repo` (a `totalMiB` context, new commit): delegated on a fresh node, or local as the reference. */
async function contextRun(repo: TestGitRepo, totalMiB: number, delegated: boolean): Promise<ContextRun> {
  await repo.commitFiles({ "nonce.txt": `${randomBytes(8).toString("hex")}\n` });
  const app = `${appPrefix}-${delegated ? "d" : "l"}${totalMiB}`;
  const label = `${totalMiB} MiB ${delegated ? "delegated" : "local (reference)"}`;
  if (!delegated) {
    const loadBefore = load();
    const run = await build([repo.url, "--app", app, "--config", await mainConfig(undefined)], cliEnv());
    readyImage(run, `the ${label} build`);
    return { label, totalMiB, run, loadBefore };
  }
  const node = await startNode({ token });
  nodes.push(node);
  const pid = node.child.pid;
  if (pid === undefined) throw new Error("the node has no pid");
  const config = await mainConfig(node.url);
  await new Promise((r) => setTimeout(r, 1000));
  const nodeIdleKb = memoryOf(pid)?.rss ?? 0;
  const loadBefore = load();
  let nodeChildrenKb = 0;
  const watch = setInterval(() => (nodeChildrenKb = Math.max(nodeChildrenKb, descendants(pid).reduce((sum, c) => sum + (memoryOf(c)?.rss ?? 0), 0))), 20);
  const run = await build([repo.url, "--app", app, "--config", config], noEngine(), { pid, contextBytes: totalMiB * MiB });
  clearInterval(watch);
  readyImage(run, `the ${label} build`);
  const nodeHwmKb = memoryOf(pid)?.hwm ?? 0;
  await node.stop();
  return { label, totalMiB, run, nodeIdleKb, nodeHwmKb, nodeChildrenKb, loadBefore };
}

/** Removes every local image of this run (`cli-<app>` names and their registry references). */
async function removeImages(): Promise<void> {
  const listed = await runCommand("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]).catch(() => ({ stdout: "" }));
  const mine = listed.stdout.split("\n").filter((ref) => ref.includes(`cli-${appPrefix}-`));
  if (mine.length > 0) await runCommand("docker", ["image", "rm", "--force", ...mine]).catch(() => undefined);
}

try {
  console.log(`load averages at start (1/5/15 min): ${load()}`);
  work = await tempDir("bench-delegate-");
  registry = await startRegistry();
  const ratioNode = await startNode({ token });
  nodes.push(ratioNode);
  const ratioRows = await ratioTrials(ratioNode);
  await ratioNode.stop();

  const small = await contextRepo(30);
  const large = await contextRepo(300);
  const runs = [await contextRun(small, 30, true), await contextRun(large, 300, true), await contextRun(large, 300, false)];

  console.log(`\n1. Small app, cold (own commit, app id and data dir each build; one run each per trial): wall time of \`buildplane build --json\`, process start included`);
  console.log(table(["trial", "first", "local s", "delegated s", "delegated / local", "load before"], ratioRows));
  const ratios = ratioRows.map((r) => Number(r[4]));
  console.log(`ratio per trial: ${ratios.join(", ")} (median ${[...ratios].sort((a, b) => a - b)[1]?.toFixed(3)}; goal < 1.10)`);

  console.log(`\n2./3. Builds of a large context (${BIG_FILES} random files, own commit, \`COPY . /ctx\`); each delegated one on a fresh node`);
  const opt = (kb: number | undefined): string => (kb === undefined ? "-" : mb(kb));
  const ctxRows = runs.map(({ label, totalMiB, run, nodeIdleKb, nodeHwmKb, nodeChildrenKb, loadBefore }) => {
    // The delegated run's second `started` names the node; the local run has one `started`.
    const started = run.events.filter((x) => x.e["type"] === "started").at(-1)?.at;
    const firstLog = run.events.find((x) => x.e["type"] === "log" && x.e["stream"] !== "system")?.at;
    const byEvents = started !== undefined && firstLog !== undefined ? `${s(firstLog - started)} s = ${(totalMiB / ((firstLog - started) / 1000)).toFixed(0)} MB/s` : "n/a";
    const throughput = run.transfer ? `${(run.transfer.mib / (run.transfer.ms / 1000)).toFixed(0)} (${s(run.transfer.ms)} s)` : "-";
    return [label, s(run.wallMs), started === undefined ? "n/a" : s(started), throughput, byEvents, mb(run.mainHwmKb), mb(run.childrenRssKb), opt(nodeIdleKb), opt(nodeHwmKb), opt(nodeChildrenKb), loadBefore];
  });
  console.log(table(["context", "wall s", "to started s", "transfer MB/s (window)", "started→1st log", "main peak MB", "main children MB", "node idle MB", "node peak MB", "node children MB", "load before"], ctxRows));
  console.log(`
wall s: the whole \`buildplane build\` (mirror clone, context, transfer, engine build, save + push, digest check).
to started s: from spawn to the last \`started\` event (delegated: the one naming the node), i.e. start-up, mirror clone, resolve.
transfer MB/s (window): context MiB / time the node's bytes read (rchar, sampled every 20 ms) took to climb from 1 MiB to the context size.
started→1st log: from that event to the first engine log line (the engine logs its first step once it holds the whole context).
main peak MB: VmHWM of the main install (read every 20 ms until it exits); main children MB: highest summed RSS of its children (git; RSS counts mmapped pack files).
node idle MB: the node's RSS before the build; node peak MB: its VmHWM after the build; node children MB: highest summed RSS of its children.`);
  const [, bigDelegated, bigLocal] = runs;
  if (bigDelegated && bigLocal) console.log(`\n300 MiB context, delegated / local wall time: ${(bigDelegated.run.wallMs / bigLocal.run.wallMs).toFixed(3)} (one run each)`);
  console.log(`load averages at end (1/5/15 min): ${load()}`);
} finally {
  for (const node of nodes) await node.stop().catch(() => undefined);
  await removeImages();
  await registry?.stop();
  for (const repo of repos) await repo.remove();
  await work?.remove();
}
// Ends explicitly in case an idle socket of a child process lingers.
process.exit(0);
