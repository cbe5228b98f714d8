// Delegated-build benchmark (issue 7), with the real processes: builder
// nodes (`buildplane serve`), main installs (`buildplane build --json`, no
// engine reachable), a local registry and the local Docker engine.
// 1. Ratio: a small app built cold by a delegating main install against the
//    same CLI in `command` mode on this machine; three trials, alternating
//    which one goes first; each build has its own commit and app id, so
//    neither the registry nor the engine's layer cache serves it.
// 2. A 300 MiB context (6 × 50 MiB random files, committed): delegated wall
//    time and context upload throughput against the same build in `command`
//    mode, side by side, in BENCH_DELEGATE_PAIRS (default 3) interleaved pairs
//    (odd pairs delegated first); the ratios are the medians of the pairs',
//    and the load averages before each build are printed beside them. The upload is measured on the process that writes
//    the context to the engine (the node when delegated, the CLI itself when
//    local): its /proc/<pid>/io `wchar` sampled every 20 ms; the window runs
//    from the first sample 1 MiB above the value at the last `started`
//    event (what the process wrote before the build started is left out)
//    to the first sample 300 MiB above it (the node streams the context to the
//    engine as it arrives, so the delegated figure is end to end: main
//    install → node → engine). The time from the `started` event naming
//    where it builds to the first engine log line (the engine logs its first
//    step once it holds the whole context) is shown beside it, and the CPU
//    time each process used (utime + stime, children included), which the
//    machine's load does not stretch as it does wall time.
// 3. Peak memory (VmHWM) of the main install, of its child processes and of
//    the node, for 30 MiB and 300 MiB contexts: each size gets a fresh node.
// MB here means MiB (2^20 bytes). Run: node --import tsx test/bench/delegate.ts
// (BENCH_DELEGATE=large runs only the two 300 MiB builds of part 2.)
// BENCH_DELEGATE_CORES=split: every CLI run is pinned to CPU 0 (taskset) and
// each node, once started, to CPU 1, as a node on its own machine would not
// take the main install's CPU; the engine (dockerd) and the registry stay on
// both. The local reference runs on CPU 0 alone as well.
// BENCH_DELEGATE_WARM=1: before its measured build, each fresh node serves
// one delegated build of a 16 MiB context, as a long-running builder node
// has served builds before (a fresh process's first build also pays for
// compiling its hot code, on the same two cores); node idle MB is then its
// RSS after that build.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, readdirSync, writeSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { cliEnv, repoRoot } from "../helpers/buildplane-cli.js";
import { cpuMs, dockerdPid, machineBusyMs, median, selfCpuMs, table } from "./fixtures/figures.js";
import { cliPath, ensureBuilt } from "../helpers/ensure-built.js";
import { startNode, type TestNode } from "../delegate/fixtures/start-node.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";

const MiB = 1024 * 1024;
const TRIALS = 3;
/** 300 MiB delegated/local pairs (`BENCH_DELEGATE_PAIRS`, default 3); the figures are their medians. */
const PAIRS = Math.max(1, Number(process.env["BENCH_DELEGATE_PAIRS"] ?? 3) || 3);
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

/** Bytes a process wrote so far (`wchar` of /proc/<pid>/io: files, pipes and sockets), or undefined once it is gone. */
function bytesWritten(pid: number): number | undefined {
  try {
    return Number(/^wchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? 0);
  } catch {
    return undefined;
  }
}

/** CPU time spent in an upload window, ms: the machine's, and that of the CLI, the node (when delegated) and dockerd themselves. */
interface WindowCpu { readonly machine: number; readonly cli: number; readonly node?: number; readonly dockerd: number }

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
  /** The wchar window in which the engine-facing process wrote the context to the engine. */
  readonly upload?: { readonly ms: number; readonly mib: number; readonly cpu: WindowCpu };
  /** CPU time of the CLI process (children included), last read before it exited. */
  readonly mainCpuMs: number;
}

/** The process that writes the context to the engine: the node, or the CLI run itself. */
type UploadSide = { readonly pid: number | "cli"; readonly contextBytes: number };

/** Runs the CLI, sampling its memory, CPU time and (when given) the engine-facing process's bytes written every 20 ms. */
function build(args: readonly string[], env: NodeJS.ProcessEnv, upload?: UploadSide): Promise<BuildRun> {
  ensureBuilt();
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const argv = [process.execPath, cliPath, "build", ...args, "--json"];
    // taskset execs the CLI: the child's pid is the CLI's own.
    const [command = "", ...rest] = splitCores ? ["taskset", "-c", "0", ...argv] : argv;
    const child = spawn(command, rest, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    const events: { at: number; e: Record<string, unknown> }[] = [];
    const uploadPid = upload?.pid === "cli" ? child.pid : upload?.pid;
    let base = uploadPid === undefined ? 0 : (bytesWritten(uploadPid) ?? 0);
    let from: number | undefined;
    let to: number | undefined;
    const engine = dockerdPid();
    /** CPU counters at the window's opening, then what was spent until it closed. */
    const cpuNow = (): WindowCpu => ({
      machine: machineBusyMs(),
      cli: child.pid === undefined ? 0 : (selfCpuMs(child.pid) ?? 0),
      ...(upload?.pid === "cli" || uploadPid === undefined ? {} : { node: selfCpuMs(uploadPid) ?? 0 }),
      dockerd: engine === undefined ? 0 : (selfCpuMs(engine) ?? 0),
    });
    let cpuFrom: WindowCpu | undefined;
    let cpuSpent: WindowCpu | undefined;
    /** The window opens only after a `started` event: what the process wrote before (a mirror, a spool) is not the upload. */
    let started = false;
    let out = "";
    let pending = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      pending += b.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        const e = JSON.parse(line) as Record<string, unknown>;
        events.push({ at: performance.now() - t0, e });
        // The window counts from the last `started` (where it builds): what the process wrote before (a mirror, a spool) is not the upload.
        if (e["type"] === "started" && from === undefined && uploadPid !== undefined) {
          base = bytesWritten(uploadPid) ?? base;
          started = true;
        }
      }
    });
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    let mainHwmKb = 0;
    let childrenRssKb = 0;
    let mainCpuMs = 0;
    const sample = (): void => {
      if (child.pid !== undefined) {
        mainHwmKb = Math.max(mainHwmKb, memoryOf(child.pid)?.hwm ?? 0);
        mainCpuMs = Math.max(mainCpuMs, cpuMs(child.pid) ?? 0);
        const sum = descendants(child.pid).reduce((s, pid) => s + (memoryOf(pid)?.rss ?? 0), 0);
        childrenRssKb = Math.max(childrenRssKb, sum);
      }
      if (upload && uploadPid !== undefined && started && to === undefined) {
        const wrote = (bytesWritten(uploadPid) ?? base) - base;
        if (from === undefined && wrote > MiB) {
          from = performance.now();
          cpuFrom = cpuNow();
        }
        if (wrote >= upload.contextBytes) {
          to = performance.now();
          const end = cpuNow();
          const start = cpuFrom ?? end;
          cpuSpent = {
            machine: end.machine - start.machine,
            cli: end.cli - start.cli,
            ...(end.node === undefined ? {} : { node: end.node - (start.node ?? end.node) }),
            dockerd: end.dockerd - start.dockerd,
          };
        }
      }
    };
    const timer = setInterval(sample, 20);
    const killOnExit = (): void => void child.kill("SIGKILL");
    process.once("exit", killOnExit);
    child.once("error", reject);
    child.once("close", (code) => {
      clearInterval(timer);
      process.removeListener("exit", killOnExit);
      const window = upload && from !== undefined && to !== undefined && cpuSpent ? { ms: to - from, mib: upload.contextBytes / MiB, cpu: cpuSpent } : undefined;
      resolve({ code, wallMs: performance.now() - t0, events, output: out, mainHwmKb, childrenRssKb, mainCpuMs, ...(window ? { upload: window } : {}) });
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
let contextRuns = 0;

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
  // As a git host serves big blobs: without a delta search between 50 MiB random files, which took
  // the serving side (upload-pack, on this machine for a file:// URL) about a minute per clone.
  await repo.git("config", "core.bigFileThreshold", "1m");
  for (let i = 0; i < BIG_FILES; i++) writeRandom(join(repo.path, `blob-${i}.bin`), (totalMiB / BIG_FILES) * MiB);
  await repo.commitFiles({}, `${totalMiB} MiB of random files`);
  return repo;
}

/** Memory and transfer figures of one large-context build (KiB; node figures only when delegated). */
interface ContextRun {
  readonly label: string; readonly totalMiB: number; readonly run: BuildRun; readonly loadBefore: string;
  readonly nodeIdleKb?: number; readonly nodeHwmKb?: number; readonly nodeChildrenKb?: number; readonly nodeCpuMs?: number;
}

const warmNodes = process.env["BENCH_DELEGATE_WARM"] === "1";
/** BENCH_DELEGATE_CORES=split: CLI runs on CPU 0, nodes on CPU 1 (see the top). */
const splitCores = process.env["BENCH_DELEGATE_CORES"] === "split";
let warmRepo: TestGitRepo | undefined;

/** A delegated build of a 16 MiB context on `node`, so the measured build runs on a node that served one before. */
async function warmUp(node: TestNode, config: string): Promise<void> {
  if (warmRepo === undefined) {
    warmRepo = await makeGitRepo({ Containerfile: "FROM local/busybox:1\nCOPY . /ctx\n" });
    repos.push(warmRepo);
    writeRandom(join(warmRepo.path, "blob.bin"), 16 * MiB);
  }
  await warmRepo.commitFiles({ "nonce.txt": `${randomBytes(8).toString("hex")}\n` });
  readyImage(await build([warmRepo.url, "--app", `${appPrefix}-w${++contextRuns}`, "--config", config], noEngine()), "the warm-up build");
}

/** One build of `repo` (a `totalMiB` context, new commit): delegated on a fresh node (warmed up with BENCH_DELEGATE_WARM=1), or local as the reference. */
async function contextRun(repo: TestGitRepo, totalMiB: number, delegated: boolean): Promise<ContextRun> {
  await repo.commitFiles({ "nonce.txt": `${randomBytes(8).toString("hex")}\n` });
  const app = `${appPrefix}-${delegated ? "d" : "l"}${totalMiB}-${++contextRuns}`;
  const label = `${totalMiB} MiB ${delegated ? "delegated" : "local (reference)"}`;
  if (!delegated) {
    const loadBefore = load();
    const run = await build([repo.url, "--app", app, "--config", await mainConfig(undefined)], cliEnv(), { pid: "cli", contextBytes: totalMiB * MiB });
    readyImage(run, `the ${label} build`);
    return { label, totalMiB, run, loadBefore };
  }
  const node = await startNode({ token });
  nodes.push(node);
  const pid = node.child.pid;
  if (pid === undefined) throw new Error("the node has no pid");
  // Every thread the node has, and those it starts later (they inherit it).
  if (splitCores) await runCommand("taskset", ["-a", "-p", "-c", "1", String(pid)]);
  const config = await mainConfig(node.url);
  if (warmNodes) await warmUp(node, config);
  await new Promise((r) => setTimeout(r, 1000));
  const nodeIdleKb = memoryOf(pid)?.rss ?? 0;
  const loadBefore = load();
  let nodeChildrenKb = 0;
  const watch = setInterval(() => (nodeChildrenKb = Math.max(nodeChildrenKb, descendants(pid).reduce((sum, c) => sum + (memoryOf(c)?.rss ?? 0), 0))), 20);
  const cpuBefore = cpuMs(pid) ?? 0;
  const run = await build([repo.url, "--app", app, "--config", config], noEngine(), { pid, contextBytes: totalMiB * MiB });
  clearInterval(watch);
  readyImage(run, `the ${label} build`);
  const nodeHwmKb = memoryOf(pid)?.hwm ?? 0;
  const nodeCpuMs = (cpuMs(pid) ?? cpuBefore) - cpuBefore;
  await node.stop();
  return { label, totalMiB, run, nodeIdleKb, nodeHwmKb, nodeChildrenKb, nodeCpuMs, loadBefore };
}

/** Removes every local image of this run (`cli-<app>` names and their registry references). */
async function removeImages(): Promise<void> {
  const listed = await runCommand("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]).catch(() => ({ stdout: "" }));
  const mine = listed.stdout.split("\n").filter((ref) => ref.includes(`cli-${appPrefix}-`));
  if (mine.length > 0) await runCommand("docker", ["image", "rm", "--force", ...mine]).catch(() => undefined);
}

const largeOnly = process.env["BENCH_DELEGATE"] === "large";

try {
  console.log(`load averages at start (1/5/15 min): ${load()}`);
  work = await tempDir("bench-delegate-");
  registry = await startRegistry();
  let ratioRows: string[][] = [];
  if (!largeOnly) {
    const ratioNode = await startNode({ token });
    nodes.push(ratioNode);
    ratioRows = await ratioTrials(ratioNode);
    await ratioNode.stop();
  }

  const small = largeOnly ? undefined : await contextRepo(30);
  const large = await contextRepo(300);
  const smallRuns = small ? [await contextRun(small, 30, true)] : [];
  // 300 MiB pairs, interleaved: odd pairs build delegated first, even pairs local first.
  const pairs: { readonly delegated: ContextRun; readonly local: ContextRun; readonly first: string }[] = [];
  for (let i = 1; i <= PAIRS; i++) {
    const delegatedFirst = i % 2 === 1;
    const first = await contextRun(large, 300, delegatedFirst);
    const second = await contextRun(large, 300, !delegatedFirst);
    pairs.push(delegatedFirst ? { delegated: first, local: second, first: "delegated" } : { delegated: second, local: first, first: "local" });
  }
  const runs = [...smallRuns, ...pairs.flatMap((p) => (p.first === "delegated" ? [p.delegated, p.local] : [p.local, p.delegated]))];

  if (!largeOnly) {
    console.log(`\n1. Small app, cold (own commit, app id and data dir each build; one run each per trial): wall time of \`buildplane build --json\`, process start included`);
    console.log(table(["trial", "first", "local s", "delegated s", "delegated / local", "load before"], ratioRows));
    const ratios = ratioRows.map((r) => Number(r[4]));
    console.log(`ratio per trial: ${ratios.join(", ")} (median ${median(ratios)?.toFixed(3)}; goal < 1.10)`);
  }

  console.log(`\n2./3. Builds of a large context (${BIG_FILES} random files, own commit, \`COPY . /ctx\`); each delegated one on a fresh node${warmNodes ? " that served one 16 MiB build first" : ""}${splitCores ? "; CLI on CPU 0, node on CPU 1" : ""}`);
  const opt = (kb: number | undefined): string => (kb === undefined ? "-" : mb(kb));
  const rate = (r: ContextRun): number | undefined => (r.run.upload ? r.run.upload.mib / (r.run.upload.ms / 1000) : undefined);
  const ctxRows = runs.map((r) => {
    const { label, totalMiB, run, nodeIdleKb, nodeHwmKb, nodeChildrenKb, nodeCpuMs, loadBefore } = r;
    // The delegated run's second `started` names the node; the local run has one `started`.
    const started = run.events.filter((x) => x.e["type"] === "started").at(-1)?.at;
    const firstLog = run.events.find((x) => x.e["type"] === "log" && x.e["stream"] !== "system")?.at;
    const byEvents = started !== undefined && firstLog !== undefined ? `${s(firstLog - started)} s = ${(totalMiB / ((firstLog - started) / 1000)).toFixed(0)} MB/s` : "n/a";
    const upload = run.upload ? `${(rate(r) ?? 0).toFixed(1)} (${s(run.upload.ms)} s)` : "-";
    const w = run.upload?.cpu;
    const inWindow = w ? `${s(w.machine)} = ${s(w.cli)} + ${w.node === undefined ? "-" : s(w.node)} + ${s(w.dockerd)} + ${s(w.machine - w.cli - (w.node ?? 0) - w.dockerd)}` : "-";
    const cpu = `${s(run.mainCpuMs)}${nodeCpuMs === undefined ? "" : ` + ${s(nodeCpuMs)}`}`;
    return [label, s(run.wallMs), started === undefined ? "n/a" : s(started), upload, inWindow, byEvents, cpu, mb(run.mainHwmKb), mb(run.childrenRssKb), opt(nodeIdleKb), opt(nodeHwmKb), opt(nodeChildrenKb), loadBefore];
  });
  console.log(table(["context", "wall s", "to started s", "engine upload MB/s (window)", "window CPU s: all = CLI + node + dockerd + rest", "started→1st log", "CPU s (main + node)", "main peak MB", "main children MB", "node idle MB", "node peak MB", "node children MB", "load before"], ctxRows));
  console.log(`
wall s: the whole \`buildplane build\` (mirror clone, context, transfer, engine build, save + push, digest check).
to started s: from spawn to the last \`started\` event (delegated: the one naming the node), i.e. start-up, mirror clone, resolve.
engine upload MB/s (window): context MiB / time the bytes written (wchar, sampled every 20 ms) by the process feeding the engine (the node, or the local CLI) took to climb from 1 MiB to the context size.
window CPU s: CPU time the machine spent busy in that window (all CPUs: ${availableParallelism()} here, so at most ${availableParallelism()} s per s), and what the CLI, the node and dockerd used of it themselves; the rest is git, the engine's other processes and everything else.
started→1st log: from that event to the first engine log line (the engine logs its first step once it holds the whole context).
CPU s: utime + stime (children included) of the CLI, and of the node during the build.
main peak MB: VmHWM of the main install (read every 20 ms until it exits); main children MB: highest summed RSS of its children (git; RSS counts mmapped pack files).
node idle MB: the node's RSS before the build; node peak MB: its VmHWM after the build; node children MB: highest summed RSS of its children.`);
  const toFirstLog = (r: ContextRun): number | undefined => {
    const started = r.run.events.filter((x) => x.e["type"] === "started").at(-1)?.at;
    const firstLog = r.run.events.find((x) => x.e["type"] === "log" && x.e["stream"] !== "system")?.at;
    return started !== undefined && firstLog !== undefined ? firstLog - started : undefined;
  };
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
  const fmt = (x: number | undefined): string => (x === undefined ? "n/a" : x.toFixed(3));
  const pairRows = pairs.map((p, i) => {
    const wall = ratio(p.delegated.run.wallMs, p.local.run.wallMs);
    const uploadRate = ratio(rate(p.delegated), rate(p.local));
    const transfer = ratio(toFirstLog(p.local), toFirstLog(p.delegated));
    const cpu = ratio(p.delegated.run.mainCpuMs + (p.delegated.nodeCpuMs ?? 0), p.local.run.mainCpuMs);
    const windowCpu = ratio(p.delegated.run.upload?.cpu.machine, p.local.run.upload?.cpu.machine);
    return { wall, uploadRate, transfer, cpu, windowCpu, row: [`pair ${i + 1}`, p.first, fmt(wall), fmt(uploadRate), fmt(windowCpu), fmt(transfer), fmt(cpu), p.delegated.loadBefore, p.local.loadBefore] };
  });
  console.log(`\n300 MiB context, delegated against local, ${PAIRS} interleaved pairs (odd pairs delegated first):`);
  console.log(table(["pair", "first", "wall d/l", "engine upload rate d/l", "window CPU d/l", "started→1st log l/d", "CPU d/l", "load before d", "load before l"], pairRows.map((r) => r.row)));
  const med = (xs: readonly (number | undefined)[]): string => fmt(median(xs.filter((x): x is number => x !== undefined)));
  console.log(`median wall time delegated / local: ${med(pairRows.map((r) => r.wall))} (goal ≤ 1.10)`);
  console.log(`median engine upload rate delegated / local: ${med(pairRows.map((r) => r.uploadRate))} (goal ≥ 0.9)`);
  console.log(`median transfer into the engine (started→1st log), local / delegated time: ${med(pairRows.map((r) => r.transfer))} (the delegated transfer's speed against the local one; goal ≥ 0.9)`);
  console.log(`median machine CPU time in the upload window, delegated / local: ${med(pairRows.map((r) => r.windowCpu))} (the same 300 MiB moved into the engine)`);
  console.log(`median CPU time delegated (main + node) / local: ${med(pairRows.map((r) => r.cpu))}`);
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
