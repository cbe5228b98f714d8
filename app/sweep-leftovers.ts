import { join } from "node:path";
import type { ResolvedConfig } from "../libs/config/config-types.js";
import { gitTempRoot } from "../libs/git/git-auth.js";
import type { RpcLogger } from "../libs/rpc/logger.js";
import { defaultTempRoot, sweepOwnedTemp } from "../libs/temp/owned-temp.js";

/** Every folder that holds owned temp folders: git's under the data dir, and the private one under the OS temp dir. */
export function leftoverRoots(config: ResolvedConfig): string[] {
  return [gitTempRoot(join(config.system.dataDir, "git")), defaultTempRoot()];
}

/**
 * Removes what killed buildplane processes of this host left (SSH key
 * files, askpass helpers, spooled images and contexts) before a process
 * starts its services. A failure is logged, never fatal: leftovers of a
 * dead process are not worth refusing to start.
 */
export async function sweepLeftovers(config: ResolvedConfig, log: RpcLogger): Promise<string[]> {
  try {
    const removed = await sweepOwnedTemp(leftoverRoots(config));
    if (removed.length > 0) log.info("removed temp folders left by stopped processes", { count: removed.length });
    return removed;
  } catch (err) {
    log.error("could not sweep temp folders left by stopped processes", { error: err instanceof Error ? err.message : String(err) });
    return [];
  }
}
