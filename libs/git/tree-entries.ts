import { gitLookup, mirrorGit } from "./local-git.js";

/** One entry of a git tree, listed recursively. */
export interface TreeEntry {
  /** Path relative to the listed tree, "/"-separated. */
  readonly path: string;
  /** Git mode: 100644, 100755, 120000 (symlink), 040000 (tree), 160000 (submodule). */
  readonly mode: string;
  readonly type: "blob" | "tree" | "commit";
  readonly oid: string;
  /** Blob size in bytes; 0 for trees and submodules. */
  readonly size: number;
}

/** Parses `git ls-tree -r -t -l -z` output. */
export function parseLsTree(out: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const rec of out.split("\0")) {
    const m = /^(\d{6}) (blob|tree|commit) ([0-9a-f]{40}) +(-|\d+)\t(.+)$/s.exec(rec);
    if (m === null) continue;
    const [, mode, type, oid, size, path] = m;
    if (mode === undefined || oid === undefined || path === undefined || size === undefined) continue;
    entries.push({ mode, type: type as TreeEntry["type"], oid, path, size: size === "-" ? 0 : Number(size) });
  }
  return entries;
}

/** Lists every entry below `treeish` (`<commit>:<dir>`) in the mirror. */
export async function listTree(dir: string, repository: string, treeish: string, signal?: AbortSignal): Promise<TreeEntry[]> {
  const out = await gitLookup(repository, signal, () =>
    mirrorGit(dir, signal).raw(["ls-tree", "-r", "-t", "-l", "-z", "--end-of-options", treeish]),
  );
  return parseLsTree(out ?? "");
}

/** The object id and type that `<commit>:<path>` names, if it exists. */
export async function lookupPath(
  dir: string,
  repository: string,
  commit: string,
  path: string,
  signal?: AbortSignal,
): Promise<{ oid: string; type: string } | undefined> {
  const spec = path === "" ? `${commit}^{tree}` : `${commit}:${path}`;
  const res = await gitLookup(repository, signal, () => mirrorGit(dir, signal).raw(["rev-parse", "--verify", "--quiet", "--end-of-options", spec]));
  const oid = res?.trim();
  if (oid === undefined || !/^[0-9a-f]{40}$/.test(oid)) return undefined;
  const type = (await gitLookup(repository, signal, () => mirrorGit(dir, signal).raw(["cat-file", "-t", oid])))?.trim();
  return type === undefined ? undefined : { oid, type };
}

/** The content of a small blob as text. */
export async function readBlobText(dir: string, repository: string, oid: string, signal?: AbortSignal): Promise<string> {
  return (await gitLookup(repository, signal, () => mirrorGit(dir, signal).raw(["cat-file", "blob", oid]))) ?? "";
}
