import { createDockerignoreMatcher } from "../../libs/tar/dockerignore.js";
import { normalizeRelativePath } from "../../libs/git/safe-path.js";

/** The files tried, in order, when the containerfile is "" or "auto". */
export const CONTAINERFILE_CANDIDATES = ["Containerfile", "Dockerfile"] as const;

/** A path in a build context, before filtering. */
export interface ContextItem {
  /** Relative to the context folder, "/"-separated. */
  readonly path: string;
  readonly kind: "file" | "directory" | "symlink";
}

/**
 * The containerfile to use, relative to the context folder: the one named
 * (confined: no `..`, not absolute), or the first candidate that exists as a
 * file. `exists` tells whether a path is a file in the context.
 */
export async function chooseContainerfile(
  wanted: string,
  exists: (path: string) => Promise<boolean>,
  notFound: (tried: string) => Error,
): Promise<string> {
  const name = wanted === "auto" ? "" : normalizeRelativePath("containerfile", wanted);
  const tried = name === "" ? [...CONTAINERFILE_CANDIDATES] : [name];
  for (const candidate of tried) if (await exists(candidate)) return candidate;
  throw notFound(tried.join(" or "));
}

/**
 * The items that go into the context, sorted by path bytes: .dockerignore
 * applied with Docker's rules, the containerfile and .dockerignore always
 * kept, and a folder kept when it is not excluded or holds a kept item.
 */
export function selectContextItems<T extends ContextItem>(items: readonly T[], rules: readonly string[], keep: readonly string[]): T[] {
  const matcher = createDockerignoreMatcher(rules);
  const always = new Set([...keep, ".dockerignore"]);
  const kept = new Set<string>();
  const parents = new Set<string>();
  for (const item of items) {
    if (item.kind === "directory") continue;
    if (!always.has(item.path) && matcher.ignores(item.path)) continue;
    kept.add(item.path);
    for (let i = item.path.lastIndexOf("/"); i > 0; i = item.path.lastIndexOf("/", i - 1)) parents.add(item.path.slice(0, i));
  }
  const chosen = items.filter((item) =>
    item.kind === "directory" ? parents.has(item.path) || !matcher.ignores(item.path) : kept.has(item.path),
  );
  return chosen.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/** Tar permission bits from an executable flag: git keeps only that bit. */
export function fileMode(executable: boolean): number {
  return executable ? 0o755 : 0o644;
}
