import { posix } from "node:path";
import type { Readable } from "node:stream";
import { extract as tarExtract, pack as tarPack, type Header } from "tar-stream";
import { DomainError } from "../../../libs/errors/domain-error.js";
import { createSymlinkIndex, type SymlinkIndex } from "./symlink-index.js";

/** An archive entry or archive that a builder node refuses. */
export class UnsafeArchiveError extends DomainError {
  constructor(message: string, code: "invalidArgument" | "resourceExhausted" = "invalidArgument") {
    super(code, message);
  }
}

/** Limits on what one build context may unpack to. */
export interface TarLimits {
  /** Total bytes of file contents once uncompressed (decompression bombs). */
  readonly maxBytes: number;
  readonly maxEntries: number;
}

/** Default limits: 8 GiB uncompressed, 200,000 entries. */
export const defaultTarLimits: TarLimits = Object.freeze({ maxBytes: 8 * 1024 ** 3, maxEntries: 200_000 });

/**
 * Re-streams a tar, entry by entry, refusing anything that could escape the
 * folder it is unpacked into: `..` segments, absolute or drive-prefixed
 * names, NUL bytes, symlinks pointing out, hard links to outside names,
 * devices and FIFOs, and archives over the size or entry limits. Symlinks
 * are remembered, so a chain of links each harmless alone cannot escape
 * either: no entry and no hard link target may go through an earlier
 * symlink, and a symlink target may only climb (`..`) before it descends,
 * since `x/..` resolves through `x`, which may be a link. Nothing is
 * written to disk; the output is the same tar minus a `.` root entry. The
 * first refusal destroys the output with `UnsafeArchiveError`.
 */
export function guardTar(input: Readable, limits: TarLimits = defaultTarLimits): Readable {
  const extract = tarExtract();
  const out = tarPack();
  let entries = 0;
  let bytes = 0;
  const symlinks = createSymlinkIndex();
  const fail = (err: unknown): void => {
    out.destroy(err instanceof Error ? err : new Error(String(err)));
    extract.destroy();
    input.destroy();
  };
  extract.on("entry", (header: Header, stream, next) => {
    let name: string | undefined;
    let linkname: string | undefined;
    try {
      name = entryName(header.name);
      if (++entries > limits.maxEntries) throw new UnsafeArchiveError(`archive has more than ${limits.maxEntries} entries`, "resourceExhausted");
      bytes += header.size ?? 0;
      if (bytes > limits.maxBytes) throw new UnsafeArchiveError(`archive unpacks to more than ${limits.maxBytes} bytes`, "resourceExhausted");
      linkname = checkType(header, name, symlinks);
    } catch (err) {
      stream.resume();
      fail(err);
      return;
    }
    if (name === undefined) {
      stream.on("end", () => next());
      stream.resume();
      return;
    }
    let entry: ReturnType<typeof out.entry>;
    try {
      // Throws when the reader already destroyed the output (a build refused or canceled).
      entry = out.entry({ ...header, name, ...(linkname !== undefined ? { linkname } : {}) }, (err) => (err ? fail(err) : next()));
    } catch (err) {
      stream.resume();
      fail(err);
      return;
    }
    // streamx (tar-stream's streams) takes a completion callback on pipe, which keeps a
    // destroyed output from surfacing as an uncaught error.
    const pipeTo = stream.pipe.bind(stream) as unknown as (dest: NodeJS.WritableStream, done: (err?: Error | null) => void) => void;
    pipeTo(entry, (err) => {
      if (err) fail(err);
    });
  });
  // A reader that destroys the output early stops the input too, instead of leaving it flowing.
  let closed = false;
  out.once("close", () => {
    closed = true;
    extract.destroy();
    input.destroy();
  });
  extract.on("finish", () => {
    if (!closed) out.finalize();
  });
  extract.on("error", (err) => fail(new UnsafeArchiveError(`archive is not a valid tar: ${err.message}`)));
  input.on("error", (err) => fail(err));
  input.pipe(extract);
  return out as unknown as Readable;
}

/** The confined name of an entry, or undefined for the root (`.` or `./`). */
function entryName(raw: string): string | undefined {
  const shown = JSON.stringify(raw.replaceAll("\0", "\\0"));
  const refuse = (why: string): never => {
    throw new UnsafeArchiveError(`archive entry ${shown} is not allowed: ${why}`);
  };
  if (raw === "") refuse("empty name");
  if (raw.includes("\0")) refuse("it contains a NUL byte");
  const slashed = raw.replaceAll("\\", "/");
  if (slashed.startsWith("/")) refuse("absolute path");
  if (/^[A-Za-z]:/.test(slashed)) refuse("drive-prefixed path");
  if (slashed.split("/").includes("..")) refuse("it contains a .. segment");
  const normal = posix.normalize(slashed).replace(/\/+$/, "");
  return normal === "." || normal === "" ? undefined : normal;
}

/**
 * Checks the entry type and where the entry and its link target lead,
 * through the symlinks seen so far; returns the link target to keep for
 * links and records symlinks.
 */
function checkType(header: Header, name: string | undefined, symlinks: SymlinkIndex): string | undefined {
  const shown = JSON.stringify(header.name);
  const refuse = (why: string): never => {
    throw new UnsafeArchiveError(`archive entry ${shown} is not allowed: ${why}`);
  };
  const via = name === undefined ? undefined : symlinks.through(name);
  if (via !== undefined) refuse(`its path goes through the symlink ${JSON.stringify(via)}`);
  switch (header.type ?? "file") {
    case "file":
    case "contiguous-file":
    case "directory":
      return undefined;
    case "symlink": {
      const target = header.linkname ?? "";
      const why = symlinkTargetProblem(name ?? ".", target);
      if (why !== undefined) refuse(`symlink to ${JSON.stringify(target)} ${why}`);
      if (name !== undefined) symlinks.add(name);
      return target;
    }
    case "link": {
      const target = entryName(header.linkname ?? "");
      if (target === undefined) refuse("hard link to the context root");
      const linkVia = symlinks.through(target ?? "");
      if (linkVia !== undefined) refuse(`hard link to ${JSON.stringify(header.linkname)} goes through the symlink ${JSON.stringify(linkVia)}`);
      return target;
    }
    default:
      return refuse(`${header.type ?? "unknown"} entries (devices, fifos) are refused`);
  }
}

/**
 * Why the symlink at `name` may not point at `target`, or undefined. The
 * target may climb out of the link's folder with leading `..` (the folders
 * above an entry are real ones: no entry goes through a symlink) but not
 * above the context root, and may not climb again once it has descended:
 * `x/..` is `.` only while `x` is no symlink, which a later entry can change.
 */
function symlinkTargetProblem(name: string, target: string): string | undefined {
  const slashed = target.replaceAll("\\", "/");
  if (target === "" || slashed.startsWith("/")) return "points outside the context";
  let depth = posix.dirname(name) === "." ? 0 : posix.dirname(name).split("/").length;
  let descended = false;
  for (const part of slashed.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") {
      descended = true;
    } else if (descended) {
      return "climbs with .. after a name: it would resolve through that name, which may be a symlink";
    } else if (--depth < 0) {
      return "points outside the context";
    }
  }
  return undefined;
}
