import { simpleGit, type SimpleGit } from "simple-git";
import { DomainError } from "../errors/domain-error.js";
import { GitCanceledError } from "./git-errors.js";

/**
 * simple-git bound to a mirror, for read-only plumbing on local objects
 * (no network, no credentials): rev-parse, ls-tree, small blobs. The caller's
 * signal stops the process.
 */
export function mirrorGit(dir: string, signal?: AbortSignal): SimpleGit {
  return simpleGit({ baseDir: dir, abort: signal, maxConcurrentProcesses: 8, trimmed: false });
}

/**
 * Creates an empty bare repository. `--template=` (no hooks, no sample
 * files) is what simple-git calls an unsafe template dir; it is enabled
 * here on purpose because an empty template is the safe choice.
 */
export async function initBare(dir: string, signal?: AbortSignal): Promise<void> {
  const git = simpleGit({ baseDir: dir, abort: signal, unsafe: { allowUnsafeTemplateDir: true } });
  // Bare repositories keep no reflogs by default (core.logAllRefUpdates is
  // false for them), so nothing needs configuring after the init.
  await git.raw(["init", "--bare", "--quiet", "--template="]);
}

/**
 * Runs a simple-git call, turning an abort into GitCanceledError and a git
 * failure into `undefined` (for lookups where "missing" is an answer).
 */
export async function gitLookup<T>(
  repository: string,
  signal: AbortSignal | undefined,
  call: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (signal?.aborted) throw new GitCanceledError(repository, "read");
    if (err instanceof DomainError) throw err;
    return undefined;
  }
}

/** The full sha of a hex revision that names a commit in the mirror, if any. */
export async function lookupCommit(dir: string, repository: string, rev: string, signal?: AbortSignal): Promise<string | undefined> {
  const out = await gitLookup(repository, signal, () =>
    mirrorGit(dir, signal).raw(["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`]),
  );
  const sha = out?.trim();
  return sha !== undefined && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
}
