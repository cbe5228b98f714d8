import { spawn, type ChildProcess } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cliPath, ensureBuilt } from "../helpers/ensure-built.js";

/** The repository root, where `bin/buildplane.js` lives. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** One `--json` line of `buildplane build`. */
export interface CliEvent {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** A finished CLI run. */
export interface CliResult {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON lines (non-JSON lines are skipped). */
  readonly events: readonly CliEvent[];
  /** The last event, which `build --json` promises is `ready` or `failed`. */
  readonly last: CliEvent | undefined;
}

/** A CLI process still running. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Resolves with the first event `match` accepts; rejects when the process ends first. */
  waitFor(match: (e: CliEvent) => boolean): Promise<CliEvent>;
  readonly done: Promise<CliResult>;
}

/**
 * The environment for a child `buildplane`: the caller's, without any
 * BUILDPLANE_* variable, with its own data dir and engine plus `extra`.
 */
export function cliEnv(dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BUILDPLANE_")) env[k] = v;
  return { ...env, BUILDPLANE_SYSTEM_DATA_DIR: dataDir, BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker", ...extra };
}

function parseLines(stdout: string): CliEvent[] {
  const events: CliEvent[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      events.push(JSON.parse(line) as CliEvent);
    } catch {
      // not an event line
    }
  }
  return events;
}

/** Starts `node bin/buildplane.js args…` and follows its JSON lines as they come. */
export function startCli(args: readonly string[], env: NodeJS.ProcessEnv): CliProcess {
  ensureBuilt();
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const watchers = new Set<() => void>();
  child.stdout.on("data", (b: Buffer) => {
    stdout += b.toString();
    for (const w of watchers) w();
  });
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<CliResult>((res) => {
    child.on("close", (code, signal) => {
      const events = parseLines(stdout);
      res({ code: code ?? signal ?? "unknown", stdout, stderr, events, last: events.at(-1) });
      for (const w of watchers) w();
    });
  });
  let ended = false;
  void done.then(() => (ended = true));
  const waitFor = (match: (e: CliEvent) => boolean): Promise<CliEvent> =>
    new Promise((res, rej) => {
      const check = (): void => {
        const found = parseLines(stdout).find(match);
        if (found) {
          watchers.delete(check);
          res(found);
        } else if (ended || child.exitCode !== null || child.signalCode !== null) {
          watchers.delete(check);
          rej(new Error(`buildplane ${args.join(" ")} ended before the expected line:\n${stdout}\n${stderr}`));
        }
      };
      watchers.add(check);
      check();
    });
  return { child, waitFor, done };
}

/** Runs `node bin/buildplane.js args…` to the end. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return startCli(args, env).done;
}

/** A build record as `buildplane builds list --json` prints it. */
export interface BuildRecordJson {
  readonly id: string;
  readonly image: string;
  readonly status: string;
  readonly imageKey: string;
  readonly digest: string;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly [field: string]: unknown;
}

/** The build records of a data dir, newest first, through `buildplane builds list --json`. */
export async function listBuilds(env: NodeJS.ProcessEnv): Promise<BuildRecordJson[]> {
  const r = await runCli(["builds", "list", "--json"], env);
  if (r.code !== 0) throw new Error(`builds list exited with ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as BuildRecordJson[];
}

/** Describes a run for assertion messages. */
export function describeRun(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
