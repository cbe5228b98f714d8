import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { authIdentity, gitTempRoot, prepareGitEnv, type GitAuth } from "./git-auth.js";
import type { ParsedRepository } from "./git-url.js";
import { parseLsRemote, type RemoteRefs } from "./ls-remote.js";
import { runGit } from "./run-git.js";

/** Options of the remote ref lister. */
export interface RemoteRefsOptions {
  /** `<data_dir>/git`, where the SSH known_hosts file lives. */
  readonly root: string;
  /** How long a listing is reused (`git_remote_check_interval_secs`); 0: never. */
  readonly reuseMs: number;
  /** Limit of one ls-remote; 0 means none. */
  readonly timeoutMs: number;
  /** Clock, for tests of reuse. */
  readonly now?: () => number;
}

/** Lists a remote's refs with `git ls-remote`, without cloning. */
export interface RemoteRefsLister {
  list(repo: ParsedRepository, auth: GitAuth | undefined, signal?: AbortSignal): Promise<RemoteRefs>;
}

/**
 * Creates the lister. Listings are cached per repository and credential
 * identity for `reuseMs`, and concurrent identical listings share one run.
 */
export function createRemoteRefsLister(opts: RemoteRefsOptions): RemoteRefsLister {
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { at: number; refs: Promise<RemoteRefs> }>();
  const knownHosts = join(opts.root, "known_hosts");

  const run = async (repo: ParsedRepository, auth: GitAuth | undefined, signal?: AbortSignal) => {
    // ssh records a new host key in known_hosts only if its folder exists.
    await mkdir(opts.root, { recursive: true });
    const prepared = await prepareGitEnv(repo, auth, knownHosts, gitTempRoot(opts.root));
    try {
      const out = await runGit(["ls-remote", "--", repo.url], {
        env: prepared.env,
        signal,
        timeoutMs: opts.timeoutMs,
        repository: repo.display,
        operation: "ls-remote",
        secrets: [auth?.password?.unwrap() ?? "", repo.urlPassword?.unwrap() ?? ""],
      });
      return parseLsRemote(out);
    } finally {
      await prepared.cleanup();
    }
  };

  return {
    async list(repo, auth, signal) {
      if (opts.reuseMs <= 0) return run(repo, auth, signal);
      const key = `${repo.url}\n${authIdentity(auth)}`;
      const hit = cache.get(key);
      if (hit !== undefined && now() - hit.at < opts.reuseMs) return hit.refs;
      const refs = run(repo, auth, signal);
      cache.set(key, { at: now(), refs });
      refs.catch(() => cache.delete(key));
      for (const [k, v] of cache) if (now() - v.at >= opts.reuseMs) cache.delete(k);
      return refs;
    },
  };
}
