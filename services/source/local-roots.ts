import { lstat, readFile, realpath } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { DomainError } from "../../libs/errors/domain-error.js";
import { RepositoryNotFoundError } from "../../libs/git/git-errors.js";
import { parseRepository, type ParsedRepository } from "../../libs/git/git-url.js";

/** A network caller naming a server path outside `[source] local_roots`. */
export class LocalRepositoryRefusedError extends DomainError {
  readonly repository: string;
  constructor(repository: string, roots: readonly string[]) {
    const allowed = roots.length ? roots.map((r) => `"${r}"`).join(", ") : "none is set";
    super(
      "permissionDenied",
      `repository "${repository}" is a path on the server outside [source] local_roots (${allowed}): network callers may name only folders under those roots`,
    );
    this.repository = repository;
  }
}

/** Decides which server paths a network caller may name as a repository. */
export interface LocalRootsPolicy {
  /** Resolves for a remote URL or an allowed path; throws LocalRepositoryRefusedError otherwise. */
  check(repository: string): Promise<void>;
}

function inside(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep));
}

const realOrUndefined = (p: string) => realpath(p).catch(() => undefined);

/**
 * The `[source] local_roots` rule for network callers. A local path or
 * `file://` URL is allowed only when its real path (symlinks and `..`
 * resolved) lies under the real path of a root, and so does every git
 * folder git itself would open for it: `<path>/.git` (a symlink or a
 * `gitdir:` file may point elsewhere), a linked worktree's `commondir`, and
 * the `<path>.git` git tries as a fallback, and the object folders named in
 * `objects/info/alternates`. Remote URLs pass untouched.
 * `roots` is read on each check, so a reloaded configuration applies at once.
 *
 * Checks of one repository against the same roots that overlap share one
 * look at the disk (a dozen file system calls): a caller arriving while
 * one runs takes its answer, as if it had arrived a moment earlier. Nothing
 * is kept once it settles, so a changed symlink counts on the next call.
 */
export function createLocalRootsPolicy(roots: () => readonly string[]): LocalRootsPolicy {
  const inFlight = new Map<string, Promise<void>>();
  return {
    async check(repository) {
      const repo = parseRepository(repository);
      if (repo.transport !== "local" && repo.transport !== "file") return;
      const configured = roots();
      const key = `${configured.join("\0")}\n${repository}`;
      const running = inFlight.get(key);
      if (running) return running;
      const checking = checkLocal(repo, configured).finally(() => inFlight.delete(key));
      inFlight.set(key, checking);
      return checking;
    },
  };
}

/** Resolves when the local repository `repo` lies, with every git folder it uses, under `configured`. */
async function checkLocal(repo: ParsedRepository, configured: readonly string[]): Promise<void> {
  const refuse = () => new LocalRepositoryRefusedError(repo.display, configured);
  if (configured.length === 0) throw refuse();
  const path = resolve(repo.transport === "file" ? repo.url.slice("file://".length) : repo.url);
  const real = await realOrUndefined(path);
  const realRoots = (await Promise.all(configured.map((r) => realOrUndefined(resolve(r))))).filter((r) => r !== undefined);
  if (real === undefined) {
    // Missing inside a root is "not found"; outside, nothing is told about the server's files.
    if (inside(path, configured.map((r) => resolve(r)))) throw new RepositoryNotFoundError(repo.display);
    throw refuse();
  }
  if (!inside(real, realRoots)) throw refuse();
  for (const gitPath of await gitFolders(real)) {
    const target = await realOrUndefined(gitPath);
    if (target !== undefined && !inside(target, realRoots)) throw refuse();
  }
}

/** The folders git may open for a repository at `real`, besides `real` itself, with their object alternates. */
async function gitFolders(real: string): Promise<string[]> {
  const dirs = await gitDirs(real);
  const alternates = await Promise.all([real, ...dirs].map(alternatesOf));
  return [...dirs, ...alternates.flat()];
}

async function gitDirs(real: string): Promise<string[]> {
  const found = [`${real}.git`];
  const dotGit = `${real}/.git`;
  const st = await lstat(dotGit).catch(() => undefined);
  if (st === undefined) return [...found, ...(await commonDir(real))];
  found.push(dotGit);
  if (st.isFile()) {
    const pointer = /^gitdir:\s*(.+?)\s*$/m.exec(await readFile(dotGit, "utf8").catch(() => ""))?.[1];
    if (pointer !== undefined) {
      const gitDir = resolve(real, pointer);
      found.push(gitDir, ...(await commonDir(gitDir)));
    }
  } else {
    found.push(...(await commonDir(dotGit)));
  }
  return found;
}

/** Object folders a repository borrows from (`objects/info/alternates`). */
async function alternatesOf(gitDir: string): Promise<string[]> {
  const objects = `${gitDir}/objects`;
  const text = await readFile(`${objects}/info/alternates`, "utf8").catch(() => "");
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")).map((l) => resolve(objects, l));
}

/** A linked worktree's git folder names the main one in `commondir`. */
async function commonDir(gitDir: string): Promise<string[]> {
  const text = await readFile(`${gitDir}/commondir`, "utf8").catch(() => undefined);
  return text === undefined || text.trim() === "" ? [] : [resolve(gitDir, text.trim())];
}

