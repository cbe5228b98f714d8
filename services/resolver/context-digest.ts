import { createHash } from "node:crypto";

/** One context entry as it enters the content hash. */
export interface DigestEntry {
  /** Relative "/"-separated path, without a trailing slash. */
  readonly path: string;
  readonly kind: "file" | "directory" | "symlink";
  /** Only a file's executable bit counts; folders hash as 755 and symlinks as 644. */
  readonly executable: boolean;
  /** sha256 hex of a file's body, a symlink's target, "" for a folder. */
  readonly content: string;
}

/** Accumulates a context's content hash entry by entry. */
export interface ContextDigest {
  add(entry: DigestEntry): void;
  /** `sha256:<hex>`; call once, after the last entry. */
  digest(): string;
}

/**
 * The content hash of a plain folder's build context, as the source service
 * names a local folder (`describeFolder`): sha256 over one line per entry in
 * path order — path, kind, mode and content hash separated by NUL. Fed with
 * an uploaded context's entries, it gives the name the same folder gets in
 * the caller's own process; `context-digest.test.ts` holds the two together.
 */
export function createContextDigest(): ContextDigest {
  const h = createHash("sha256");
  return {
    add(e) {
      const mode = e.kind === "directory" || (e.kind === "file" && e.executable) ? "755" : "644";
      h.update(`${e.path}\0${e.kind}\0${mode}\0${e.content}\n`);
    },
    digest: () => `sha256:${h.digest("hex")}`,
  };
}
