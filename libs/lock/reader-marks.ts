import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { isPidAlive } from "./pid-alive.js";

/**
 * Marks, one file per reader, saying "a process is reading this": the
 * shared half of a shared/exclusive scheme whose exclusive half is a file
 * lock. A reader writes its mark while holding the lock, so a process that
 * takes the lock and finds no live mark knows nobody is reading and nobody
 * can start to until it lets go. Marks are named `<host>@<pid>@<random>`:
 * one left by a dead process on this host is dead at once; one from another
 * host is taken as dead when its holder stopped refreshing it for
 * `staleMs`.
 */
export interface ReaderMarks {
  /** Writes a mark for `key`; returns its path, for `unmark`. */
  mark(key: string): Promise<string>;
  /** Removes a mark; a missing one is fine. */
  unmark(path: string): Promise<void>;
  /** Marks of `key` held by live readers; dead ones are removed on the way. */
  live(key: string): Promise<number>;
}

const host = hostname().replace(/[@/]/g, "_") || "localhost";
const nameRe = /^(.+)@(\d+)@[0-9a-f]{12}$/;

/** Creates the marks kept under `root/<key>/`, refreshed every `staleMs / 2`. */
export function createReaderMarks(root: string, staleMs: number): ReaderMarks {
  const held = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const refresh = () => {
    const now = new Date();
    for (const path of held) void utimes(path, now, now).catch(() => undefined);
  };
  return {
    async mark(key) {
      const dir = join(root, key);
      await mkdir(dir, { recursive: true });
      const path = join(dir, `${host}@${process.pid}@${randomBytes(6).toString("hex")}`);
      await writeFile(path, "");
      held.add(path);
      if (timer === undefined) {
        timer = setInterval(refresh, Math.max(staleMs / 2, 500));
        timer.unref();
      }
      return path;
    },
    async unmark(path) {
      held.delete(path);
      if (held.size === 0 && timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
      await rm(path, { force: true });
    },
    async live(key) {
      const dir = join(root, key);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
        throw err;
      }
      let count = 0;
      for (const name of names) {
        const path = join(dir, name);
        if (await isLive(path, name, staleMs)) count++;
        else await rm(path, { force: true });
      }
      return count;
    },
  };
}

async function isLive(path: string, name: string, staleMs: number): Promise<boolean> {
  const m = nameRe.exec(name);
  if (m === null) return false;
  if (m[1] === host) return isPidAlive(Number(m[2]));
  try {
    return (await stat(path)).mtimeMs >= Date.now() - staleMs;
  } catch {
    return false;
  }
}
