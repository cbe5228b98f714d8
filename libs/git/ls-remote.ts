import { InvalidRepositoryError, RefNotFoundError } from "./git-errors.js";

/** Refs advertised by a remote: full ref name → object id; "HEAD" included. */
export type RemoteRefs = ReadonlyMap<string, string>;

/** A full 40-hex commit sha. */
export const FULL_SHA = /^[0-9a-f]{40}$/;
/** An abbreviated sha that only a mirror can expand. */
export const SHORT_SHA = /^[0-9a-f]{4,39}$/;

/** Rejects refs git would read as options or that are not ref-shaped. */
export function assertRefShape(repository: string, ref: string): void {
  if (ref === "") return;
  if (ref.startsWith("-") || ref.includes("..") || !/^[A-Za-z0-9._/+@-]+$/.test(ref)) {
    throw new InvalidRepositoryError(repository, `a ref made of letters, digits and "._/+@-", got "${ref}"`);
  }
}

/** Parses `git ls-remote` output ("<sha>\t<ref>" lines). */
export function parseLsRemote(stdout: string): RemoteRefs {
  const refs = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const [sha, name] = line.split("\t");
    if (sha !== undefined && name !== undefined && FULL_SHA.test(sha)) refs.set(name, sha);
  }
  return refs;
}

/**
 * Picks the commit a ref names, in git's own order (refs/<ref>, tags, then
 * branches); an annotated tag gives its peeled commit (`^{}`). Empty ref →
 * the remote HEAD. Undefined when nothing matches.
 */
export function pickRef(refs: RemoteRefs, ref: string): string | undefined {
  if (ref === "" || ref === "HEAD") return refs.get("HEAD");
  const candidates = ref.startsWith("refs/")
    ? [ref]
    : [`refs/${ref}`, `refs/tags/${ref}`, `refs/heads/${ref}`];
  for (const name of candidates) {
    const sha = refs.get(`${name}^{}`) ?? refs.get(name);
    if (sha !== undefined) return sha;
  }
  return undefined;
}

/** Throws RefNotFoundError unless `pickRef` finds the ref. */
export function requireRef(refs: RemoteRefs, repository: string, ref: string): string {
  const sha = pickRef(refs, ref);
  if (sha === undefined) throw new RefNotFoundError(repository, ref || "HEAD");
  return sha;
}
