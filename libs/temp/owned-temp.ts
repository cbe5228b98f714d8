import { chmod, lstat, mkdir, mkdtemp, readdir, rm, rmdir } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { DomainError } from "../errors/domain-error.js";
import { isPidAlive } from "../lock/pid-alive.js";

/**
 * Temporary folders buildplane makes (SSH keys, askpass helpers, spooled
 * images and contexts) live in folders only this user can enter, each named
 * `<kind>@<host>@<pid>@<random>`: the owner is written in the name, so a
 * process started after a crash or a SIGKILL can tell what a dead process
 * left and remove it (`sweepOwnedTemp`), without touching what a live one,
 * or one on another host sharing the folder, is using.
 */

/** A temp root that is not a private folder of this user. */
export class UnsafeTempRootError extends DomainError {
  constructor(readonly root: string, detail: string) {
    super("failedPrecondition", `temp folder "${root}" is not safe: ${detail}: expected a folder owned by this user with mode 0700`);
  }
}

/** `<tmpdir>/buildplane-<uid>`: the private root for temp folders that are not under a data dir. */
export function defaultTempRoot(): string {
  return join(tmpdir(), `buildplane-${process.getuid?.() ?? "user"}`);
}

const nameRe = /^([a-z][a-z0-9-]*)@(.+)@(\d+)@[A-Za-z0-9]{6}$/;

/** The host part of owned names: the hostname, with `@` and `/` left out. */
function hostTag(): string {
  return hostname().replace(/[@/]/g, "_") || "localhost";
}

/**
 * Makes `<root>/<kind>@<host>@<pid>@XXXXXX`, mode 0700, creating `root`
 * (0700) when missing, refusing a root that is a symlink or someone else's
 * (a trap laid in a shared /tmp), and closing to 0700 a root of this user
 * that others may enter (a volume whose modes Kubernetes' fsGroup widened).
 * Retried when another process removed the empty root at the same moment.
 */
export async function makeOwnedTempDir(root: string, kind: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      // Another process may remove the empty root between any two of these steps: start again.
      await mkdir(root, { recursive: true, mode: 0o700 });
      await assertPrivate(root);
      return await mkdtemp(join(root, `${kind}@${hostTag()}@${process.pid}@`));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= 20) throw err;
    }
  }
}

/** Removes an owned temp folder, then its root when that is left empty. */
export async function removeOwnedTempDir(dir: string, root: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await removeIfEmpty(root);
}

/** Options of `sweepOwnedTemp`; the defaults are the real ones. */
export interface SweepOptions {
  /** True when `pid` is a live process on this host. */
  readonly isAlive?: (pid: number) => boolean;
}

/**
 * Removes, under each root, the owned temp folders this host's dead
 * processes left (a SIGKILL, a crash, a power cut). Folders of live
 * processes, of other hosts and anything not named by `makeOwnedTempDir`
 * are kept. Returns the removed paths. Missing roots are fine.
 */
export async function sweepOwnedTemp(roots: readonly string[], options: SweepOptions = {}): Promise<string[]> {
  const isAlive = options.isAlive ?? isPidAlive;
  const host = hostTag();
  const removed: string[] = [];
  for (const root of roots) {
    let names: string[];
    try {
      await assertPrivate(root);
      names = await readdir(root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    for (const name of names) {
      const m = nameRe.exec(name);
      if (m === null || m[2] !== host) continue;
      const pid = Number(m[3]);
      if (pid === process.pid || isAlive(pid)) continue;
      await rm(join(root, name), { recursive: true, force: true });
      removed.push(join(root, name));
    }
    await removeIfEmpty(root);
  }
  return removed;
}


async function assertPrivate(root: string): Promise<void> {
  const s = await lstat(root);
  if (s.isSymbolicLink()) throw new UnsafeTempRootError(root, "it is a symbolic link");
  if (!s.isDirectory()) throw new UnsafeTempRootError(root, "it is not a folder");
  const uid = process.getuid?.();
  if (uid !== undefined && s.uid !== uid) throw new UnsafeTempRootError(root, `it belongs to uid ${s.uid}`);
  if ((s.mode & 0o077) !== 0) await chmod(root, 0o700);
}

async function removeIfEmpty(root: string): Promise<void> {
  await rmdir(root).catch(() => undefined);
}
