import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { authIdentity, gitTempRoot, prepareGitEnv, type GitAuth } from "./git-auth.js";
import { GitCanceledError, GitCommandError, RefNotFoundError } from "./git-errors.js";
import type { ParsedRepository } from "./git-url.js";
import { initBare, lookupCommit } from "./local-git.js";
import { FULL_SHA } from "./ls-remote.js";
import { runGit } from "./run-git.js";
import { createSingleFlight } from "./single-flight.js";

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
}

/** Default bound when `git_checkout_cache_entries` is 0: a mirror is always needed. */
export const DEFAULT_MIRROR_ENTRIES = 32;

interface Entry {
  readonly dir: string;
  refs: number;
  /** Created empty by this process and not fetched yet: lookups can only miss. */
  empty?: boolean;
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
 * Creates the mirror cache. A mirror's folder is `sha256(url + credential
 * identity)`: requests with other (or no) credentials never read objects
 * fetched with someone else's. Fetches are single-flight per mirror; a
 * fetch brings every branch and tag, so later commits need only the new
 * objects. Eviction skips mirrors in use.
 */
export function createMirrorCache(opts: MirrorCacheOptions): MirrorCache {
  const entries = new Map<string, Entry>();
  const flights = createSingleFlight();
  const knownHosts = join(opts.root, "known_hosts");
  const max = opts.maxEntries > 0 ? opts.maxEntries : DEFAULT_MIRROR_ENTRIES;
  let scanned: Promise<void> | undefined;
  const removeDir = opts.removeDir ?? ((dir: string) => rm(dir, { recursive: true, force: true }));

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

  const evict = async () => {
    for (const [key, e] of entries) {
      if (entries.size <= max) return;
      if (e.refs > 0) continue;
      entries.delete(key);
      const removal = removeDir(e.dir).finally(() => evicting.delete(key));
      evicting.set(key, removal);
      await removal;
    }
  };

  const create = async (e: Entry, repo: ParsedRepository, signal: AbortSignal) => {
    const dir = e.dir;
    if (await exists(join(dir, "HEAD"))) return;
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

  const fetch = async (dir: string, repo: ParsedRepository, auth: GitAuth | undefined, refspecs: string[], signal: AbortSignal) => {
    const prepared = await prepareGitEnv(repo, auth, knownHosts, gitTempRoot(opts.root));
    try {
      await runGit(["fetch", "--quiet", "--prune", "--no-write-fetch-head", "--", repo.url, ...refspecs], {
        env: prepared.env,
        cwd: dir,
        signal,
        timeoutMs: opts.timeoutMs,
        repository: repo.display,
        operation: "fetch",
        secrets: [auth?.password?.unwrap() ?? "", repo.urlPassword?.unwrap() ?? ""],
      });
    } finally {
      await prepared.cleanup();
    }
  };

  return {
    keys: () => [...entries.keys()],
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
        void evict();
      };
      try {
        const onAbort = () => new GitCanceledError(repo.display, "init");
        await evicting.get(key);
        await flights.run(`init:${key}`, (s) => create(e, repo, s), signal, onAbort);
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
      const fetchOnce = (label: string, refspecs: string[], s?: AbortSignal) =>
        flights.run(`${label}:${key}`, (fs) => fetch(e.dir, repo, auth, refspecs, fs), s, () => new GitCanceledError(repo.display, "fetch"));
      return {
        dir: e.dir,
        repository: repo,
        release,
        async ensureCommit(rev, s) {
          const seen = e.known.get(rev);
          if (seen !== undefined && Date.now() - seen < knownCommitMs) return rev;
          const found = await lookup(rev, s);
          if (found !== undefined) return found;
          await fetchOnce("fetch", ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], s);
          e.empty = false;
          const afterFetch = await lookup(rev, s);
          if (afterFetch !== undefined) return afterFetch;
          if (FULL_SHA.test(rev)) {
            // A commit no branch or tag reaches: ask for it by id (servers may refuse).
            try {
              await fetchOnce(`sha-${rev}`, [`+${rev}:refs/buildplane/commits/${rev}`], s);
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
