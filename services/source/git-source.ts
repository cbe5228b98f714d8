import type { GitAuth } from "../../libs/git/git-auth.js";
import { PathNotFoundError, RefNotFoundError } from "../../libs/git/git-errors.js";
import type { ParsedRepository } from "../../libs/git/git-url.js";
import { assertRefShape, FULL_SHA, pickRef, SHORT_SHA } from "../../libs/git/ls-remote.js";
import type { MirrorCache, MirrorLease } from "../../libs/git/mirror-cache.js";
import type { RemoteRefsLister } from "../../libs/git/remote-refs.js";
import { joinRelative } from "../../libs/git/safe-path.js";
import { listTree, lookupPath, readBlobText } from "../../libs/git/tree-entries.js";
import { packTar } from "../../libs/tar/deterministic-tar.js";
import { parseDockerignore } from "../../libs/tar/dockerignore.js";
import { chooseContainerfile } from "./context-plan.js";
import { gitContextEntries } from "./git-context.js";

/** A folder of a git repository at one commit, as the service describes it. */
export interface FolderDescription {
  readonly commit: string;
  readonly treeHash: string;
  readonly containerfile: string;
  readonly ignoreRules: string[];
}

/** Where a request points in git. */
export interface GitTarget {
  readonly repo: ParsedRepository;
  readonly auth: GitAuth | undefined;
  /** Normalized folder inside the repository ("" = root). */
  readonly dir: string;
}

/** Resolve, describe and stream for git repositories (remote or local). */
/** A folder's content key, containerfile and ignore rules at one commit. */
interface FolderDescriptionOf {
  readonly treeHash: string;
  readonly containerfile: string;
  readonly ignoreRules: string[];
}

export function createGitSource(deps: { mirrors: MirrorCache; refs: RemoteRefsLister }) {
  const { mirrors, refs } = deps;

  async function withCommit<T>(t: GitTarget, commit: string, signal: AbortSignal | undefined, fn: (lease: MirrorLease, full: string) => Promise<T>): Promise<T> {
    const lease = await mirrors.acquire(t.repo, t.auth, signal);
    try {
      return await fn(lease, await lease.ensureCommit(commit, signal));
    } finally {
      lease.release();
    }
  }

  // What a folder holds at a commit never changes: Describe's answer is kept
  // (per mirror, so per credential identity) for the StreamContext that follows.
  const described = new Map<string, FolderDescriptionOf>();
  const describedLimit = 1024;

  async function folderOf(lease: MirrorLease, t: GitTarget, commit: string, containerfile: string, signal?: AbortSignal): Promise<FolderDescriptionOf> {
    const key = `${lease.dir}\0${commit}\0${t.dir}\0${containerfile}`;
    const known = described.get(key);
    if (known) return known;
    const found = await describeFolder(lease, t, commit, containerfile, signal);
    if (described.size >= describedLimit) described.delete(described.keys().next().value ?? "");
    described.set(key, found);
    return found;
  }

  async function describeFolder(lease: MirrorLease, t: GitTarget, commit: string, containerfile: string, signal?: AbortSignal): Promise<FolderDescriptionOf> {
    const display = t.repo.display;
    const tree = await lookupPath(lease.dir, display, commit, t.dir, signal);
    if (tree?.type !== "tree") throw new PathNotFoundError(display, commit, t.dir || ".", "a folder");
    const cf = await chooseContainerfile(
      containerfile,
      async (p) => (await lookupPath(lease.dir, display, commit, joinRelative(t.dir, p), signal))?.type === "blob",
      (tried) => new PathNotFoundError(display, commit, joinRelative(t.dir, tried), "a containerfile in the folder"),
    );
    const ignore = await lookupPath(lease.dir, display, commit, joinRelative(t.dir, ".dockerignore"), signal);
    const rules = ignore?.type === "blob" ? parseDockerignore(await readBlobText(lease.dir, display, ignore.oid, signal)) : [];
    return Object.freeze({ treeHash: tree.oid, containerfile: cf, ignoreRules: rules });
  }

  return {
    /** The 40-hex commit of `ref`: ls-remote for names, the mirror for short shas. */
    async resolve(t: GitTarget, ref: string, signal?: AbortSignal): Promise<string> {
      assertRefShape(t.repo.display, ref);
      if (FULL_SHA.test(ref)) return ref;
      const sha = pickRef(await refs.list(t.repo, t.auth, signal), ref);
      if (sha !== undefined) return sha;
      if (SHORT_SHA.test(ref)) return withCommit(t, ref, signal, async (_lease, full) => full);
      throw new RefNotFoundError(t.repo.display, ref || "HEAD");
    },

    /** Tree hash, containerfile and ignore rules of the folder at `commit`. */
    async describe(t: GitTarget, commit: string, containerfile: string, signal?: AbortSignal): Promise<FolderDescription> {
      return withCommit(t, commit, signal, async (lease, full) => ({ commit: full, ...(await folderOf(lease, t, full, containerfile, signal)) }));
    },

    /** The deterministic tar of the folder at `commit`, in pieces. */
    async *context(t: GitTarget, commit: string, containerfile: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
      const lease = await mirrors.acquire(t.repo, t.auth, signal);
      try {
        const full = await lease.ensureCommit(commit, signal);
        const folder = await folderOf(lease, t, full, containerfile, signal);
        const tree = await listTree(lease.dir, t.repo.display, folder.treeHash, signal);
        const entries = gitContextEntries(lease.dir, t.repo.display, tree, folder.ignoreRules, [folder.containerfile], signal);
        yield* packTar(entries, signal);
      } finally {
        lease.release();
      }
    },
  };
}

/** The git half of the source service. */
export type GitSource = ReturnType<typeof createGitSource>;
