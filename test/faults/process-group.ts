import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** What one fixture process printed last, and how it ended. */
export interface ProcessOutcome {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last JSON line it printed (`{start, end, …}` or `{error, code}`). */
  readonly result: Record<string, unknown>;
}

/** A fixture process that announced it is ready and waits for `go()`. */
export interface ReadyProcess {
  readonly child: ChildProcess;
  go(): void;
  readonly outcome: Promise<ProcessOutcome>;
}

const fixture = fileURLToPath(new URL("./fixtures/source-client.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Starts `test/faults/fixtures/source-client.ts` with `args` and resolves
 * once it printed `{"ready":true}` (its modules are loaded), so that a
 * group of them can be let go at the same moment.
 */
export async function startFixture(args: readonly string[]): Promise<ReadyProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, ...args], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  let last: Record<string, unknown> = {};
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  lines.on("line", (line) => {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    if (parsed["ready"] === true) ready();
    else last = parsed;
  });
  const outcome = new Promise<ProcessOutcome>((resolve) => {
    child.on("close", (exitCode, signal) => {
      if (Object.keys(last).length === 0 && stderr !== "") last = { error: stderr };
      resolve({ exitCode, signal, result: last });
    });
  });
  await Promise.race([isReady, outcome.then((o) => Promise.reject(new Error(`fixture ended before it was ready: ${JSON.stringify(o)}`)))]);
  return { child, outcome, go: () => child.stdin?.end("go\n") };
}

/** Starts `n` fixtures, lets them all go at once, and resolves with their outcomes. */
export async function runTogether(n: number, args: readonly string[]): Promise<ProcessOutcome[]> {
  const group = await Promise.all(Array.from({ length: n }, () => startFixture(args)));
  for (const p of group) p.go();
  return Promise.all(group.map((p) => p.outcome));
}
