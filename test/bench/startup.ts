// Start-up benchmark: the wall time of whole processes, median of RUNS runs
// each, as a ratio to `node -e 0` on the same machine at the same time —
// `buildplane --help`, `buildplane --version`, and `buildplane build
// <folder>` whose image already exists (embedded default, a temp data dir,
// the local Docker engine; the image is built once first). The cases run
// round-robin, so a change in machine load weighs on all of them alike.
// Targets: --help within 3×, the existing-image build within 6×.
// Run: node --import tsx test/bench/startup.ts  (BENCH_RUNS=N for more runs)
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { cliEnv } from "../e2e/cli-process.js";
import { cliPath, ensureBuilt } from "../helpers/ensure-built.js";
import { runCommand } from "../helpers/run-command.js";
import { tempDir } from "../helpers/temp-dir.js";

const RUNS = Number(process.env["BENCH_RUNS"] ?? "15");

interface Case {
  readonly name: string;
  readonly args: readonly string[];
  /** The ratio to `node -e 0` the case should stay within, if any. */
  readonly target?: number;
  /** Checks a run's output; throws when the run did not do what it measures. */
  check(stdout: string, stderr: string): void;
}

/** Runs one process to its end and returns its wall time in ms; throws on a non-zero exit. */
function timed(args: readonly string[], env: NodeJS.ProcessEnv): { ms: number; stdout: string; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env, encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${String(r.status)}:\n${r.stdout}\n${r.stderr}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

ensureBuilt();
const work = await tempDir("bench-startup-");
let image = "";
try {
  const folder = join(work.path, "app");
  mkdirSync(folder);
  writeFileSync(join(folder, "Containerfile"), "FROM local/busybox:1\nCOPY nonce.txt /nonce.txt\n");
  writeFileSync(join(folder, "nonce.txt"), `${randomBytes(8).toString("hex")}\n`);
  const env = cliEnv(join(work.path, "data"), { BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker", NO_COLOR: "1" });
  delete env["NODE_OPTIONS"];
  const build = [cliPath, "build", folder, "--json"];

  const first = timed(build, env);
  const ready = JSON.parse(first.stdout.trim().split("\n").at(-1) ?? "{}") as { type?: string; image?: string; cached?: boolean };
  if (ready.type !== "ready" || ready.cached !== false || !ready.image) throw new Error(`the first build did not build the image:\n${first.stdout}\n${first.stderr}`);
  image = ready.image;

  const cases: Case[] = [
    { name: "node -e 0", args: ["-e", "0"], check: () => undefined },
    { name: "buildplane --help", args: [cliPath, "--help"], target: 3, check: (out) => expect(out.startsWith("Usage: buildplane"), "--help", out) },
    { name: "buildplane --version", args: [cliPath, "--version"], check: (out) => expect(/^\d+\.\d+\.\d+\n$/.test(out), "--version", out) },
    {
      name: "buildplane build <folder> (image exists)",
      args: build,
      target: 6,
      check: (out) => {
        const e = JSON.parse(out.trim()) as { type?: string; image?: string; cached?: boolean };
        expect(e.type === "ready" && e.cached === true && e.image === image, "build", out);
      },
    },
  ];
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const loadBefore = loadavg()[0] ?? 0;
  for (let i = 0; i < RUNS; i++) {
    for (const c of cases) {
      const r = timed(c.args, env);
      c.check(r.stdout, r.stderr);
      times.get(c.name)?.push(r.ms);
    }
  }
  const base = median(times.get("node -e 0") ?? []);
  const rows = cases.map((c) => {
    const m = median(times.get(c.name) ?? []);
    const ratio = m / base;
    const target = c.target === undefined ? "" : `≤ ${c.target}× ${ratio <= c.target ? "met" : "MISSED"}`;
    return [c.name, `${m.toFixed(0)} ms`, `${ratio.toFixed(2)}×`, target] as const;
  });
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0), ["case", "median", "ratio"][i]?.length ?? 0));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join(" | ").trimEnd();
  console.log(`median of ${RUNS} runs each, whole process; load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] ?? 0).toFixed(1)} after`);
  console.log(line(["case", "median", "ratio", "target"]));
  for (const r of rows) console.log(line(r));
} finally {
  if (image) await runCommand("docker", ["rmi", "--force", image]).catch(() => undefined);
  await work.remove();
}

function expect(ok: boolean, what: string, out: string): void {
  if (!ok) throw new Error(`${what} printed something else than expected:\n${out}`);
}
