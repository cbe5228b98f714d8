import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { authIdentity, gitTempRoot, prepareGitEnv, type GitAuth } from "./git-auth.js";
import { GitCanceledError, GitCommandError, RefNotFoundError } from "./git-errors.js";
import type { ParsedRepository } from "./git-url.js";
import { initBare, lookupCommit } from "./local-git.js";
import { FULL_SHA } from "./ls-remote.js";
import { runGit } from "./run-git.js";
import { removeGitTempObjects, removeStaleGitLocks } from "./stale-git-locks.js";
import { createSingleFlight, raceSignal } from "./single-flight.js";
import { DEFAULT_LOCK_STALE_MS, LockUnavailableError, withFileLock } from "../lock/file-lock.js";
import { createReaderMarks } from "../lock/reader-marks.js";

/** Where mirrors live and how many are kept. */
export interface MirrorCacheOptions {
  /** Folder holding the mirrors: `<data_dir>/git`. */
  readonly root: string;
  /** Mirrors kept; least recently used ones beyond it are removed when idle. */
  readonly maxEntries: number;
  /** Limit of one fetch; 0 means none. */
  readonly timeoutMs: number;
  /** Deletes an evicted mirror's folder; default `rm -r`. */
  readonly removeDir?: (dir: string) => Promise<void>;
  /**
   * A mirror lock left by a killed process is taken over after this long
   * (the holder refreshes it every half of it). Default 10 000 ms.
   */
  readonly lockStaleMs?: number;
  /**
   * Longest wait for another process's fetch of the same mirror; default the
   * fetch limit plus two stale periods, or 30 minutes when there is no limit.
   */
  readonly lockWaitMs?: number;
  /** Sees cache hits and misses and wraps each fetch (metrics, spans). */
  readonly observer?: MirrorObserver;
}

/** What the mirror cache reports about itself. */
export interface MirrorObserver {
  /** A commit was asked for: already in the mirror (hit), or a fetch was needed (miss). */
  lookup(hit: boolean): void;
  /** Runs one git fetch into a mirror. */
  fetch<T>(run: () => Promise<T>): Promise<T>;
}

/** A mirror held for use; it is never evicted until released. */
export interface MirrorLease {
  readonly dir: string;
  readonly repository: ParsedRepository;
  /**
   * The full sha of `rev` (a full or short sha) in the mirror, fetching only
   * what is missing. RefNotFoundError when the remote does not have it.
   */
  ensureCommit(rev: string, signal?: AbortSignal): Promise<string>;
  release(): void;
}

/** Bare mirrors, one per repository and credential identity, LRU-bounded. */
export interface MirrorCache {
  acquire(repo: ParsedRepository, auth: GitAuth | undefined, signal?: AbortSignal): Promise<MirrorLease>;
  /** Keys of the mirrors currently known, least recently used first. */
  keys(): string[];
  /**
   * Drops the reader marks kept on idle mirrors for reuse, and resolves when
   * the work started by releases (unmarking, eviction) is done.
   */
  settled(): Promise<void>;
}

/** Default bound when `git_checkout_cache_entries` is 0: a mirror is always needed. */
export const DEFAULT_MIRROR_ENTRIES = 32;

interface Entry {
  readonly dir: string;
  refs: number;
  /** Created empty by this process and not fetched yet: lookups can only miss. */
  empty?: boolean;
  /** This process's reader mark on the mirror, while `refs > 0` and for `markIdleMs` after. */
  mark?: Promise<string> | undefined;
  /** Drops the mark once the mirror has been idle for `markIdleMs`. */
  idle?: NodeJS.Timeout | undefined;
  /**
   * Full commit ids found in this mirror, with when they were found. A
   * commit's objects stay once fetched, so a lookup is not repeated within
   * `knownCommitMs` (bounded, in case a force-push and git's gc prune it).
   */
  readonly known: Map<string, number>;
}

/** How long a commit found in a mirror is taken as present without asking git again. */
const knownCommitMs = 10 * 60_000;
const knownCommitsMax = 4096;
/**
 * How long a reader mark outlives the last lease: requests in a row reuse it
 * instead of taking the gate lock each time (other processes cannot evict
 * the mirror meanwhile).
 */
const markIdleMs = 5_000;

/**
 * Creates the mirror cache. A mirror's folder is `sha256(url + credential
 * identity)`: requests with other (or no) credentials never read objects
 * fetched with someone else's. Fetches are single-flight per mirror; a
 * fetch brings every branch and tag, so later commits need only the new
 * objects. Eviction skips mirrors in use.
 *
 * Processes sharing the data dir coordinate through two file locks per
 * mirror under `<root>/locks/`: `<key>.fetch`, held while git fetches into
 * it (one fetch per mirror at a time across processes; other mirrors fetch
 * in parallel), and `<key>.gate`, held briefly to create a mirror, to
 * register a reader (a mark under `<root>/readers/<key>/`, kept while a
 * lease is held) and to delete it. Eviction takes both and deletes only a
 * mirror with no live reader, so no process ever reads a deleted mirror;
 * readers need no lock while reading, since git publishes fetched objects
 * and refs atomically.
 */
export function createMirrorCache(opts: MirrorCacheOptions): MirrorCache {
  const entries = new Map<string, Entry>();
  const flights = createSingleFlight();
  const knownHosts = join(opts.root, "known_hosts");
  const max = opts.maxEntries > 0 ? opts.maxEntries : DEFAULT_MIRROR_ENTRIES;
  let scanned: Promise<void> | undefined;
  const removeDir = opts.removeDir ?? ((dir: string) => rm(dir, { recursive: true, force: true }));
  const staleMs = opts.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
  const fetchWaitMs = opts.lockWaitMs ?? (opts.timeoutMs > 0 ? opts.timeoutMs + 2 * staleMs : 30 * 60_000);
  const gateWaitMs = Math.max(60_000, 3 * staleMs);
  const marks = createReaderMarks(join(opts.root, "readers"), staleMs);
  const lockPath = (key: string, kind: "fetch" | "gate") => join(opts.root, "locks", `${key}.${kind}`);

  const scan = async () => {
    await mkdir(opts.root, { recursive: true });
    const names = (await readdir(opts.root)).filter((n) => /^[0-9a-f]{64}$/.test(n));
    const found = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(opts.root, n))).mtimeMs })));
    for (const { n } of found.sort((a, b) => a.t - b.t)) {
      if (!entries.has(n)) entries.set(n, { dir: join(opts.root, n), refs: 0, known: new Map() });
    }
  };

  // Folders being deleted, by key: a new user of the same repository waits
  // for the deletion before creating the mirror again.
  const evicting = new Map<string, Promise<void>>();
  const background = new Set<Promise<void>>();

  /** Deletes an idle mirror unless another process fetches into it or reads it. */
  const removeMirror = async (key: string, e: Entry) => {
    try {
      await withFileLock({ name: `mirror ${key.slice(0, 12)} (fetch)`, path: lockPath(key, "fetch"), staleMs, waitMs: 0 }, () =>
        withFileLock({ name: `mirror ${key.slice(0, 12)}`, path: lockPath(key, "gate"), staleMs, waitMs: gateWaitMs }, async () => {
          if ((await marks.live(key)) > 0) return;
          await removeDir(e.dir);
        }),
      );
    } catch (err) {
      // Busy in another process: it stays, and is that process's to evict.
      if (!(err instanceof LockUnavailableError)) throw err;
    }
  };

  /** Removes this process's mark of an idle mirror. */
  const unmarkIdle = async (e: Entry) => {
    clearTimeout(e.idle);
    e.idle = undefined;
    const mark = e.mark;
    e.mark = undefined;
    const path = await mark?.catch(() => undefined);
    if (path !== undefined) await marks.unmark(path);
  };

  const track = (work: Promise<void>) => {
    const quiet = work.catch(() => undefined);
    background.add(quiet);
    void quiet.finally(() => background.delete(quiet));
  };

  const evict = async () => {
    for (const [key, e] of entries) {
      if (entries.size <= max) return;
      if (e.refs > 0) continue;
      entries.delete(key);
      await unmarkIdle(e);
      const removal = removeMirror(key, e).finally(() => evicting.delete(key));
      evicting.set(key, removal);
      await removal;
    }
  };

  /** Under the gate: creates the mirror when missing (here or deleted by another process) and marks it read. */
  const register = (key: string, e: Entry, repo: ParsedRepository) =>
    withFileLock({ name: `mirror of repository "${repo.display}"`, path: lockPath(key, "gate"), staleMs, waitMs: gateWaitMs }, async (s) => {
      await create(e, repo, s);
      return marks.mark(key);
    });

  const create = async (e: Entry, repo: ParsedRepository, signal: AbortSignal) => {
    const dir = e.dir;
    if (await exists(join(dir, "HEAD"))) return;
    e.known.clear();
    const tmp = join(opts.root, `.tmp-${randomBytes(8).toString("hex")}`);
    try {
      await mkdir(tmp, { recursive: true });
      await initBare(tmp, signal);
      await rename(tmp, dir);
      e.empty = true;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (signal.aborted) throw new GitCanceledError(repo.display, "init");
      // Another process sharing the data dir created the mirror first: use it.
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === "ENOTEMPTY" || code === "EEXIST") && (await exists(join(dir, "HEAD")))) return;
      throw err;
    }
  };

  /**
   * Fetches under the mirror's fetch lock, unless `done` finds, once the
   * lock is held, that another process already fetched what is needed.
   */
  const fetchLocked = (key: string, dir: string, repo: ParsedRepository, auth: GitAuth | undefined, refspecs: string[], done: () => Promise<boolean>, signal: AbortSignal) =>
    withFileLock(
      { name: `mirror of repository "${repo.display}" (fetch)`, path: lockPath(key, "fetch"), staleMs, waitMs: fetchWaitMs, signal },
      async (s) => {
        if (await done()) return;
        await removeStaleGitLocks(dir, staleMs);
        await fetch(dir, repo, auth, refspecs, s);
      },
    );

  const fetch = async (dir: string, repo: ParsedRepository, auth: GitAuth | undefined, refspecs: string[], signal: AbortSignal) => {
    const prepared = await prepareGitEnv(repo, auth, knownHosts, gitTempRoot(opts.root));
    const observe = opts.observer ? opts.observer.fetch.bind(opts.observer) : <T>(run: () => Promise<T>) => run();
    try {
      await observe(() => runGit(["fetch", "--quiet", "--prune", "--no-write-fetch-head", "--", repo.url, ...refspecs], {
        env: prepared.env,
        cwd: dir,
        signal,
        timeoutMs: opts.timeoutMs,
        repository: repo.display,
        operation: "fetch",
        secrets: [auth?.password?.unwrap() ?? "", repo.urlPassword?.unwrap() ?? ""],
      }));
    } catch (err) {
      // A fetch stopped half-way (a full disk, a dropped connection) leaves nothing behind.
      await removeGitTempObjects(dir);
      throw err;
    } finally {
      await prepared.cleanup();
    }
  };

  return {
    keys: () => [...entries.keys()],
    settled: async () => {
      for (const e of entries.values()) if (e.refs === 0 && e.mark !== undefined) track(unmarkIdle(e));
      while (background.size > 0) await Promise.all(background);
    },
    async acquire(repo, auth, signal) {
      scanned ??= scan();
      await scanned;
      const key = createHash("sha256").update(`${repo.url}\n${authIdentity(auth)}`).digest("hex");
      let entry = entries.get(key);
      if (entry === undefined) entry = { dir: join(opts.root, key), refs: 0, known: new Map() };
      entries.delete(key);
      entries.set(key, entry);
      entry.refs++;
      const e = entry;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        e.refs--;
        if (e.refs > 0) return;
        clearTimeout(e.idle);
        e.idle = setTimeout(() => {
          if (e.refs === 0) track(unmarkIdle(e));
        }, markIdleMs);
        e.idle.unref();
        track(evict());
      };
      try {
        const onAbort = () => new GitCanceledError(repo.display, "init");
        await evicting.get(key);
        clearTimeout(e.idle);
        e.idle = undefined;
        if (e.mark === undefined) {
          const mark = register(key, e, repo);
          e.mark = mark;
          mark.catch(() => {
            if (e.mark === mark) e.mark = undefined;
          });
        }
        await raceSignal(e.mark, signal, onAbort);
        await evict();
      } catch (err) {
        release();
        throw err;
      }
      /** The full id of `rev` in the mirror, remembered when `rev` is itself a full id. */
      const lookup = async (rev: string, s?: AbortSignal): Promise<string | undefined> => {
        const found = e.empty === true ? undefined : await lookupCommit(e.dir, repo.display, rev, s);
        if (found !== undefined && found === rev) {
          if (e.known.size >= knownCommitsMax) e.known.clear();
          e.known.set(rev, Date.now());
        }
        return found;
      };
      const fetchOnce = (label: string, rev: string, refspecs: string[], s?: AbortSignal) =>
        flights.run(
          `${label}:${key}`,
          (fs) => fetchLocked(key, e.dir, repo, auth, refspecs, async () => (await lookupCommit(e.dir, repo.display, rev, fs)) !== undefined, fs),
          s,
          () => new GitCanceledError(repo.display, "fetch"),
        );
      return {
        dir: e.dir,
        repository: repo,
        release,
        async ensureCommit(rev, s) {
          const seen = e.known.get(rev);
          const hit = (): void => opts.observer?.lookup(true);
          if (seen !== undefined && Date.now() - seen < knownCommitMs) return hit(), rev;
          const found = await lookup(rev, s);
          if (found !== undefined) return hit(), found;
          opts.observer?.lookup(false);
          await fetchOnce("fetch", rev, ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], s);
          e.empty = false;
          const afterFetch = await lookup(rev, s);
          if (afterFetch !== undefined) return afterFetch;
          if (FULL_SHA.test(rev)) {
            // A commit no branch or tag reaches: ask for it by id (servers may refuse).
            try {
              await fetchOnce(`sha-${rev}`, rev, [`+${rev}:refs/buildplane/commits/${rev}`], s);
            } catch (err) {
              if (!(err instanceof GitCommandError)) throw err;
            }
            const bySha = await lookup(rev, s);
            if (bySha !== undefined) return bySha;
          }
          throw new RefNotFoundError(repo.display, rev);
        },
      };
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
