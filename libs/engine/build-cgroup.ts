import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The cgroup one Podman build runs its `RUN` steps in (the build's
 * `cgroupparent`). Podman's API service keeps building after the client goes
 * away, so cancelling a Podman build means killing what runs there until the
 * engine reports the build failed. Works where the engine runs on this
 * machine with the cgroupfs manager and we may signal its processes (root).
 */
export interface BuildCgroup {
  /** The value passed as `cgroupparent`. */
  readonly parent: string;
  /** Sends SIGKILL to every process in the cgroup; resolves with how many were signalled. */
  killAll(): Promise<number>;
}

const ROOTS = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"];

/** A fresh cgroup parent name for one build. */
export function createBuildCgroup(buildKey: string): BuildCgroup {
  const parent = `/buildplane-build-${buildKey}`;
  return {
    parent,
    async killAll() {
      let killed = 0;
      for (const root of ROOTS) {
        for (const pid of await pidsUnder(join(root, parent))) {
          try {
            process.kill(pid, "SIGKILL");
            killed += 1;
          } catch {
            // already gone
          }
        }
      }
      return killed;
    },
  };
}

async function pidsUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  const procs = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
  for (const line of procs.split("\n")) if (/^\d+$/.test(line)) pids.push(Number(line));
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) pids.push(...(await pidsUnder(join(dir, entry.name))));
  }
  return pids;
}
