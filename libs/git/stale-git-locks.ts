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

/**
 * Removes the temporary object files a failed git fetch leaves in a bare
 * repository (`objects/<xx>/tmp_obj_*` of a loose object it could not
 * finish, `objects/pack/tmp_*` of a pack, `objects/tmp_objdir-*`
 * quarantines): a fetch stopped by a full disk leaves them behind, taking
 * the space the next fetch needs. Called only after our git process ended,
 * while holding the mirror's fetch lock. Returns the removed paths.
 */
export async function removeGitTempObjects(repoDir: string): Promise<string[]> {
  const removed: string[] = [];
  const objects = join(repoDir, "objects");
  const remove = async (path: string) => {
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  };
  const entries = await readdir(objects, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(objects, e.name);
    if (!e.isDirectory()) continue;
    if (e.name.startsWith("tmp_objdir-") || e.name.startsWith("incoming-")) {
      await remove(path);
      continue;
    }
    if (e.name !== "pack" && !/^[0-9a-f]{2}$/.test(e.name)) continue;
    for (const f of await readdir(path).catch(() => [] as string[])) if (f.startsWith("tmp_")) await remove(join(path, f));
  }
  return removed;
}
