import { readFileSync } from "node:fs";

/**
 * True when the process with `pid` on this host runs: a lease, a reader
 * mark or a temp folder it owns is still in use. A zombie does not run (it
 * was killed and only waits to be reaped); a pid owned by another user
 * (`EPERM`) does.
 */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}
