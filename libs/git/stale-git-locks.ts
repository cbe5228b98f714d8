import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";

/**
 * Removes the `*.lock` files git leaves in a bare repository when it is
 * killed mid-update (`refs/heads/main.lock`, `packed-refs.lock`, …): left
 * there, each one fails every later fetch of that ref with "File exists".
 * Called only while holding the mirror's fetch lock, so no git of ours is
 * writing; a lock younger than `olderThanMs` is kept in case a git process
 * orphaned by a killed holder is still finishing. Returns the removed paths.
 */
export async function removeStaleGitLocks(repoDir: string, olderThanMs: number): Promise<string[]> {
  const removed: string[] = [];
  const before = Date.now() - olderThanMs;
  const visit = async (dir: string, recurse: boolean) => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (recurse) await visit(path, true);
      } else if (e.name.endsWith(".lock")) {
        const s = await stat(path).catch(() => undefined);
        if (s !== undefined && s.mtimeMs < before) {
          await rm(path, { force: true });
          removed.push(path);
        }
      }
    }
  };
  await visit(repoDir, false);
  await visit(join(repoDir, "refs"), true);
  return removed;
}
