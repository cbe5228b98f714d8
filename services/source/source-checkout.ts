import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { parseRepository } from "../../libs/git/git-url.js";
import { createMirrorCache, type MirrorObserver } from "../../libs/git/mirror-cache.js";
import { createRemoteRefsLister } from "../../libs/git/remote-refs.js";
import { normalizeRelativePath } from "../../libs/git/safe-path.js";
import { chooseGitAuth, type RequestCredentials } from "./credentials.js";
import { describeFolder, folderContext } from "./folder-source.js";
import { createGitSource, type FolderDescription, type GitTarget } from "./git-source.js";
import type { SourceOptions } from "./source-options.js";

/** A source as a request names it, in our own types. */
export interface SourceRef {
  readonly repository: string;
  readonly ref: string;
  readonly dir: string;
  readonly authName: string;
  readonly credentials: RequestCredentials | undefined;
}

/** One piece of a context stream; the last one carries the totals (`sha256` "" unless asked for). */
export type ContextPiece = { readonly chunk: Buffer } | { readonly totalBytes: number; readonly sha256: string };

/** What a context stream reports besides its bytes. */
export interface ContextStreamOptions {
  /** Hash the tar (sha256, hex) for the last piece: a second pass over every byte, for callers that check them. */
  readonly withSha256?: boolean;
}

type Target = { readonly kind: "git"; readonly git: GitTarget } | { readonly kind: "folder"; readonly root: string; readonly dir: string };

/**
 * The source-checkout domain: refs to commits, folder descriptions and
 * deterministic contexts, from git (through cached mirrors) or from a plain
 * local folder.
 */
export function createSourceCheckout(opts: SourceOptions, observer?: MirrorObserver) {
  const timeoutMs = opts.operationTimeoutSecs > 0 ? opts.operationTimeoutSecs * 1000 : 0;
  const git = createGitSource({
    mirrors: createMirrorCache({ root: opts.gitRoot, maxEntries: opts.cacheEntries, timeoutMs, ...(observer ? { observer } : {}) }),
    refs: createRemoteRefsLister({ root: opts.gitRoot, reuseMs: opts.remoteCheckIntervalSecs * 1000, timeoutMs }),
  });

  async function target(src: SourceRef): Promise<Target> {
    const repo = parseRepository(src.repository);
    const dir = normalizeRelativePath("dir", src.dir);
    if (repo.transport === "local" && !(await isGitRepository(repo.url))) return { kind: "folder", root: repo.url, dir };
    const auth = chooseGitAuth(src.credentials, src.authName, opts.gitAuth, opts.defaultGitAuth, repo);
    return { kind: "git", git: { repo, auth, dir } };
  }

  async function commitOf(t: Target & { kind: "git" }, src: SourceRef, commit: string, signal?: AbortSignal): Promise<string> {
    return commit !== "" ? commit.toLowerCase() : git.resolve(t.git, src.ref, signal);
  }

  return {
    /** The commit a ref names; "" for a plain folder, which has none. */
    async resolveRevision(src: SourceRef, signal?: AbortSignal): Promise<string> {
      const t = await target(src);
      return t.kind === "folder" ? "" : git.resolve(t.git, src.ref, signal);
    },

    async describe(src: SourceRef, commit: string, containerfile: string, signal?: AbortSignal): Promise<FolderDescription> {
      const t = await target(src);
      if (t.kind === "folder") return describeFolder(t.root, t.dir, containerfile, signal);
      return git.describe(t.git, await commitOf(t, src, commit, signal), containerfile, signal);
    },

    async *streamContext(src: SourceRef, commit: string, containerfile: string, signal?: AbortSignal, options: ContextStreamOptions = {}): AsyncGenerator<ContextPiece> {
      const t = await target(src);
      const pieces = t.kind === "folder"
        ? folderContext(t.root, t.dir, containerfile, signal)
        : git.context(t.git, await commitOf(t, src, commit, signal), containerfile, signal);
      const h = options.withSha256 === true ? createHash("sha256") : undefined;
      let total = 0;
      for await (const chunk of pieces) {
        h?.update(chunk);
        total += chunk.length;
        yield { chunk };
      }
      yield { totalBytes: total, sha256: h?.digest("hex") ?? "" };
    },
  };
}

/** The source-checkout domain object. */
export type SourceCheckout = ReturnType<typeof createSourceCheckout>;

/** A working tree (`.git` inside) or a bare repository (HEAD and objects). */
async function isGitRepository(path: string): Promise<boolean> {
  const has = (p: string) => stat(join(path, p)).then(() => true, () => false);
  return (await has(".git")) || ((await has("HEAD")) && (await has("objects")));
}
