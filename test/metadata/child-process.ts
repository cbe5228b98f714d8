import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** Runs a TypeScript fixture from test/metadata/fixtures in a new node process (through tsx). */
export function spawnFixture(name: string, args: readonly string[]): ChildProcess {
  const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  return spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
}

/** Resolves with the exit code (or signal name); rejects with stderr when the process fails. */
export function exited(child: ChildProcess): Promise<number | string> {
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on("exit", (code, signal) => {
      if (code === 0 || signal === "SIGKILL") resolve(code ?? signal ?? "");
      else reject(new Error(`fixture exited with ${code ?? signal}: ${stderr}`));
    });
  });
}
