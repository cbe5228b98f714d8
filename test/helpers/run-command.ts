import { spawn } from "node:child_process";

/** What a finished command printed. */
export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `command args…` without a shell and resolves with its output, or
 * rejects with the exit code and stderr when it fails. `input` is written to
 * stdin (so passwords need not go into argv).
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.once("error", reject);
    child.once("close", (code) => {
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args[0] ?? ""} exited with ${String(code)}: ${stderr.trim()}`));
    });
    if (child.stdin !== null) {
      // A command that exits without reading its input must not crash the test.
      child.stdin.on("error", () => {});
      child.stdin.end(options.input);
    }
  });
}
