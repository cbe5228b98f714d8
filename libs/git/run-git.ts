import { spawn, type ChildProcess } from "node:child_process";
import {
  GitAuthError,
  GitCanceledError,
  GitCommandError,
  GitTimeoutError,
  RepositoryNotFoundError,
} from "./git-errors.js";
import { scrubUrl } from "./git-url.js";

/**
 * How one git process runs. Git is spawned directly (not through simple-git)
 * wherever the environment carries credentials, a process group must be
 * killed on cancel, or stdout is streamed: simple-git refuses GIT_* variables
 * unless unsafe flags are set and buffers output.
 */
export interface GitRunOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly signal?: AbortSignal;
  /** 0 or undefined: no limit. */
  readonly timeoutMs?: number;
  /** Printable repository, for messages. */
  readonly repository: string;
  /** Short name of the operation, for messages ("fetch", "ls-remote"). */
  readonly operation: string;
  /** Values to blank out of stderr before it reaches a message. */
  readonly secrets?: readonly string[];
  readonly stdin?: "pipe" | "ignore";
}

/** A started git process and the promise of its classified end. */
export interface RunningGit {
  readonly child: ChildProcess;
  /** Resolves on exit 0; rejects with a DomainError otherwise. */
  readonly done: Promise<void>;
  /** Kills the whole process group now. */
  kill(): void;
}

/** Observers of spawned argv, so tests can prove no secret is in it. */
const spawnObservers = new Set<(argv: readonly string[]) => void>();

/** Registers an observer of every git argv; returns its removal. */
export function observeGitSpawns(fn: (argv: readonly string[]) => void): () => void {
  spawnObservers.add(fn);
  return () => spawnObservers.delete(fn);
}

/** Starts git in its own process group, bounded by a timeout and a signal. */
export function startGit(args: readonly string[], opts: GitRunOptions): RunningGit {
  for (const fn of spawnObservers) fn(["git", ...args]);
  const child = spawn("git", [...args], {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: [opts.stdin ?? "ignore", "pipe", "pipe"],
  });
  let stopped: "timeout" | "canceled" | undefined;
  const kill = () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }
  };
  const onAbort = () => {
    stopped ??= "canceled";
    kill();
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = opts.timeoutMs ? setTimeout(() => { stopped ??= "timeout"; kill(); }, opts.timeoutMs) : undefined;
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => {
    if (stderr.length < 16384) stderr += d;
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on("error", (err) => reject(new GitCommandError(opts.repository, opts.operation, err.message)));
    child.on("close", (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (stopped === "canceled") return reject(new GitCanceledError(opts.repository, opts.operation));
      if (stopped === "timeout") return reject(new GitTimeoutError(opts.repository, opts.operation, opts.timeoutMs ?? 0));
      if (code === 0) return resolve();
      reject(classifyGitFailure(opts, scrub(stderr, opts.secrets ?? [])));
    });
  });
  return { child, done, kill };
}

/** Runs git to the end and returns its stdout. */
export async function runGit(args: readonly string[], opts: GitRunOptions): Promise<string> {
  const run = startGit(args, opts);
  const chunks: Buffer[] = [];
  run.child.stdout?.on("data", (d: Buffer) => chunks.push(d));
  await run.done;
  return Buffer.concat(chunks).toString("utf8");
}

function scrub(stderr: string, secrets: readonly string[]): string {
  let s = scrubUrl(stderr);
  for (const v of secrets) if (v.length > 0) s = s.split(v).join("***");
  return s;
}

/** The last lines of stderr, for a message. */
function tail(stderr: string): string {
  return stderr.trim().split("\n").filter((l) => l.trim() !== "").slice(-3).join("; ");
}

const AUTH = /authentication failed|could not read (username|password)|permission denied \((publickey|password)|http basic: access denied|returned error: 40[13]\b|invalid username or password/i;
const MISSING = /repository '.*' not found|not found: did you run git update-server-info|does not appear to be a git repository|repository not exported|no such repository|returned error: 404|could not find remote|does not exist/i;

/**
 * Maps git's whole (scrubbed) stderr to a domain error: the cause is often
 * not in the last lines (ssh prints "Permission denied" before git's own
 * "Could not read from remote repository" advice). The message keeps only
 * the last lines and never holds a secret.
 */
export function classifyGitFailure(opts: Pick<GitRunOptions, "repository" | "operation">, stderr: string): Error {
  if (AUTH.test(stderr)) return new GitAuthError(opts.repository);
  if (MISSING.test(stderr)) return new RepositoryNotFoundError(opts.repository);
  return new GitCommandError(opts.repository, opts.operation, tail(stderr));
}
