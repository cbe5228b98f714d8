import { ArchiveEntryError, ArchiveLimitError, shownName } from "./archive-errors.js";
import type { ArchiveLimits } from "./archive-limits.js";
import type { RawEntry } from "./tar-parser.js";

/**
 * An entry that passed every rule, rebuilt from an allow-list of fields:
 * a normalised relative path, permission bits only, and for links a target
 * checked against the archive's own tree. Owners, PAX and GNU records and
 * device numbers are not carried.
 */
export type ConfinedEntry =
  | { readonly type: "file"; readonly path: string; readonly mode: number; readonly size: number; readonly mtime: number }
  | { readonly type: "directory"; readonly path: string; readonly mode: number; readonly mtime: number }
  | { readonly type: "symlink"; readonly path: string; readonly target: string; readonly mtime: number }
  /**
   * `target` is the normalised path of an earlier regular file of the
   * archive; `mode` is that file's, since extractors (Docker's among them)
   * apply a link's mode to the inode it shares with its target.
   */
  | { readonly type: "link"; readonly path: string; readonly target: string; readonly mode: number; readonly mtime: number };

/** The rules, entry by entry, with what the archive declared so far. */
export interface ArchiveTree {
  /**
   * Checks one entry against the rules and the entries before it; returns
   * it rebuilt, or undefined for the context root (`.`, `./`), which is
   * dropped. Throws `ArchiveEntryError` or `ArchiveLimitError`.
   */
  admit(raw: RawEntry): ConfinedEntry | undefined;
  /** Entries admitted and bytes of file contents declared so far. */
  readonly totals: { readonly entries: number; readonly bytes: number };
}

type Kind = "directory" | "file" | "symlink";

interface Node {
  kind: Kind;
  children?: Map<string, Node>;
  /** Permission bits of a file. */
  mode?: number;
}

/** Where the set-uid, set-gid and sticky bits sit in a tar mode. */
const SETUID = 0o4000;
const SETGID = 0o2000;

/** The longest file name most file systems take (NAME_MAX), in bytes. */
const MAX_SEGMENT = 255;

const refusedTypes: Readonly<Record<string, string>> = {
  "3": "character devices are refused",
  "4": "block devices are refused",
  "6": "fifos are refused",
  S: "sparse files are refused",
};

/**
 * Creates the rule set for one archive:
 * - names: relative, no NUL or backslash, no `..` segment, normalised
 *   (`./a//b/` is `a/b`), within `maxPathLength`, no file name (between
 *   slashes) over 255 bytes;
 * - types: regular files, folders, symlinks and hard links only; devices,
 *   fifos, sparse files and unknown types refused; only files carry data;
 * - modes: set-uid and set-gid refused, the sticky bit dropped;
 * - tree: no entry under a symlink or a file; a name used once, except a
 *   folder declared again as a folder; folders implied by deeper entries
 *   count as folders, so nothing can later turn one into a symlink;
 * - symlinks: relative targets that stay inside the context when resolved
 *   from the link's folder, climbing (`..`) only before descending, since
 *   `x/..` resolves through `x`, which may itself be a symlink;
 * - hard links: to an earlier regular file of the archive only (not a
 *   symlink, a folder or a name outside the archive);
 * - limits: entry count and total bytes of file contents.
 */
export function createArchiveTree(limits: ArchiveLimits): ArchiveTree {
  const root: Node = { kind: "directory" };
  const totals = { entries: 0, bytes: 0 };

  const admit = (raw: RawEntry): ConfinedEntry | undefined => {
    const shown = raw.name;
    const refuse = (rule: string): never => {
      throw new ArchiveEntryError(shown, rule);
    };
    if (++totals.entries > limits.maxEntries) throw new ArchiveLimitError(shown, `the archive has more than ${limits.maxEntries} entries`);
    const path = confinedPath(raw.name, "path", shown, limits);
    const type = entryType(raw, refuse);
    if (raw.mode & SETUID) refuse("the set-uid bit is refused");
    if (raw.mode & SETGID) refuse("the set-gid bit is refused");
    if (type !== "file" && raw.size !== 0) refuse(`a ${type} entry may not carry data (size ${raw.size})`);
    if (type === "file") {
      totals.bytes += raw.size;
      if (totals.bytes > limits.maxBytes) throw new ArchiveLimitError(shown, `the archive holds more than ${limits.maxBytes} bytes of file contents`);
    }
    const mtime = Math.max(0, raw.mtime);
    if (path === "") {
      if (type !== "directory") refuse("only a folder may be the context root");
      return undefined;
    }
    const parts = path.split("/");
    const parent = folderOf(parts, refuse);
    const last = parts[parts.length - 1] ?? "";
    const existing = parent.children?.get(last);
    if (existing !== undefined && !(existing.kind === "directory" && type === "directory")) {
      refuse(existing.kind === "directory" ? "path is already a folder of the archive" : "path is already used by an earlier entry");
    }
    let entry: ConfinedEntry;
    let kind: Kind;
    switch (type) {
      case "file":
        entry = { type, path, mode: raw.mode & 0o777, size: raw.size, mtime };
        kind = "file";
        break;
      case "directory":
        entry = { type, path, mode: raw.mode & 0o777, mtime };
        kind = "directory";
        break;
      case "symlink":
        entry = { type, path, target: symlinkTarget(raw.linkname, parts.length - 1, refuse, shown, limits), mtime };
        kind = "symlink";
        break;
      case "link": {
        const target = confinedPath(raw.linkname, "hard link target", shown, limits);
        const found = lookup(target, (via) => refuse(`hard link target ${shownName(raw.linkname)} goes through the symlink ${shownName(via)}`));
        if (found === undefined) refuse(`hard link target ${shownName(raw.linkname)} is not an earlier file of the archive`);
        else if (found.kind === "symlink") refuse(`hard link target ${shownName(raw.linkname)} is a symlink`);
        else if (found.kind === "directory") refuse(`hard link target ${shownName(raw.linkname)} is a folder`);
        entry = { type, path, target, mode: found?.mode ?? 0o644, mtime };
        kind = "file";
        break;
      }
    }
    if (existing === undefined) {
      parent.children ??= new Map();
      parent.children.set(last, kind === "file" ? { kind, mode: entry.type === "file" || entry.type === "link" ? entry.mode : 0o644 } : { kind });
    }
    return entry;
  };

  /** The folder node holding `parts`' last element, creating implied folders; refuses symlinks and files on the way. */
  const folderOf = (parts: readonly string[], refuse: (rule: string) => never): Node => {
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i] ?? "";
      let child = node.children?.get(part);
      if (child === undefined) {
        child = { kind: "directory" };
        node.children ??= new Map();
        node.children.set(part, child);
      } else if (child.kind === "symlink") {
        refuse(`path goes through the symlink ${shownName(parts.slice(0, i + 1).join("/"))}`);
      } else if (child.kind === "file") {
        refuse(`path goes through the file ${shownName(parts.slice(0, i + 1).join("/"))}`);
      }
      node = child;
    }
    return node;
  };

  /** The node at `path`, or undefined; a symlink on the way is reported to `onSymlink`. */
  const lookup = (path: string, onSymlink: (via: string) => never): Node | undefined => {
    if (path === "") return root;
    const parts = path.split("/");
    let node: Node | undefined = root;
    for (const [i, part] of parts.entries()) {
      if (node.kind === "symlink") onSymlink(parts.slice(0, i).join("/"));
      if (node.kind !== "directory") return undefined;
      node = node.children?.get(part);
      if (node === undefined) return undefined;
    }
    return node;
  };

  return { admit, totals };
}

type EntryType = "file" | "directory" | "symlink" | "link";

function entryType(raw: RawEntry, refuse: (rule: string) => never): EntryType {
  if (raw.sparse) refuse("sparse files are refused");
  switch (raw.typeflag) {
    case "0":
    case "7":
      return "file";
    case "\0":
      // Old (v7) archives mark folders by a trailing slash on a regular entry.
      return raw.name.endsWith("/") ? "directory" : "file";
    case "5":
      return "directory";
    case "2":
      return "symlink";
    case "1":
      return "link";
    default:
      return refuse(refusedTypes[raw.typeflag] ?? `entry type ${shownName(raw.typeflag)} is refused: expected a file, folder, symlink or hard link`);
  }
}

/**
 * `name` made relative and normal (`./a//b/` → `a/b`, `.` → ``), or a
 * refusal that starts with `what` and says why.
 */
function confinedPath(name: string, what: "path" | "hard link target", entry: string, limits: ArchiveLimits): string {
  const subject = what === "path" ? "path" : `hard link target ${shownName(name)}`;
  const refuse = (why: string): never => {
    throw new ArchiveEntryError(entry, `${subject} ${why}`);
  };
  if (Buffer.byteLength(name) > limits.maxPathLength) throw new ArchiveLimitError(entry, `${subject} is longer than ${limits.maxPathLength} bytes`);
  if (name === "") refuse("is empty");
  if (name.includes("\0")) refuse("contains a NUL byte");
  if (name.includes("\\")) refuse("contains a backslash");
  if (name.startsWith("/")) refuse("is absolute");
  if (/^[A-Za-z]:/.test(name)) refuse("starts with a drive letter");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  // Up to 85 UTF-16 units make at most 255 UTF-8 bytes: most names need no count.
  if (parts.some((p) => p.length > 85 && Buffer.byteLength(p) > MAX_SEGMENT)) refuse(`has a name longer than ${MAX_SEGMENT} bytes between slashes`);
  if (parts.includes("..")) {
    let depth = 0;
    for (const p of parts) if ((depth += p === ".." ? -1 : 1) < 0) refuse("escapes the context");
    refuse(`contains a ".." segment`);
  }
  return parts.join("/");
}

/**
 * The target of a symlink in a folder `depth` levels below the root, kept
 * as written once checked: relative, inside the context, no `..` after a
 * name (that name could be a symlink declared later).
 */
function symlinkTarget(target: string, depth: number, refuse: (rule: string) => never, entry: string, limits: ArchiveLimits): string {
  const shown = shownName(target);
  if (Buffer.byteLength(target) > limits.maxPathLength) throw new ArchiveLimitError(entry, `symlink target is longer than ${limits.maxPathLength} bytes`);
  if (target === "") refuse("symlink target is empty");
  if (target.includes("\0")) refuse(`symlink target ${shown} contains a NUL byte`);
  if (target.includes("\\")) refuse(`symlink target ${shown} contains a backslash`);
  if (target.startsWith("/") || /^[A-Za-z]:/.test(target)) refuse(`symlink target ${shown} is absolute`);
  let descended = false;
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") {
      descended = true;
    } else if (descended) {
      refuse(`symlink target ${shown} climbs with ".." after a name, which could resolve through another symlink`);
    } else if (--depth < 0) {
      refuse(`symlink target ${shown} points outside the context`);
    }
  }
  return target;
}
