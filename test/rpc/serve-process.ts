import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cliPath, ensureBuilt } from "../helpers/ensure-built.js";

/** The repository root, where `bin/buildplane.js` lives. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** A temporary folder removed by `cleanup()`. */
export function tempDir(prefix: string): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes `toml` to `<dir>/buildplane.toml` and returns the path. */
export function writeConfig(dir: string, toml: string): string {
  const file = join(dir, "buildplane.toml");
  writeFileSync(file, toml);
  return file;
}

/** The environment for a child `buildplane`: no BUILDPLANE_* leaking in from the caller. */
export function childEnv(dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BUILDPLANE_")) env[k] = v;
  return { ...env, BUILDPLANE_SYSTEM_DATA_DIR: dataDir, ...extra };
}

export interface ServeProcess {
  readonly url: string;
  readonly port: number;
  readonly services: string;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  readonly exited: Promise<number | string>;
  /** Kills the process if still running (test clean-up). */
  kill(): void;
}

/** Runs `buildplane <args>` to completion; for the commands that fail at start. */
export function runBuildplane(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | string; stdout: string; stderr: string }> {
  ensureBuilt();
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  return new Promise((res) => child.on("exit", (code, signal) => res({ code: code ?? signal ?? "unknown", stdout, stderr })));
}

/**
 * Starts `buildplane serve --host 127.0.0.1 --port 0 <args>` and resolves
 * once it printed its listening line; rejects with its output when it exits
 * first.
 */
export function startServe(args: readonly string[], env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  ensureBuilt();
  const child = spawn(process.execPath, [cliPath, "serve", "--host", "127.0.0.1", "--port", "0", ...args], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const exited = new Promise<number | string>((res) => child.on("exit", (code, signal) => res(code ?? signal ?? "unknown")));
  return new Promise((resolvePromise, reject) => {
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
      const m = /buildplane listening on (\S+) \(services: ([^)]*)\)/.exec(stdout);
      if (!m?.[1] || m[2] === undefined) return;
      resolvePromise({
        url: m[1],
        port: Number(new URL(m[1]).port),
        services: m[2],
        child,
        stdout: () => stdout,
        stderr: () => stderr,
        exited,
        kill: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        },
      });
    });
    void exited.then((code) => reject(new Error(`buildplane serve exited with ${code} before listening:\n${stdout}\n${stderr}`)));
  });
}
