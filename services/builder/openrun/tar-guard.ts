import { posix } from "node:path";
import type { Readable } from "node:stream";
import { extract as tarExtract, pack as tarPack, type Header } from "tar-stream";
import { DomainError } from "../../../libs/errors/domain-error.js";

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
 * devices and FIFOs, and archives over the size or entry limits. Nothing is
 * written to disk; the output is the same tar minus a `.` root entry. The
 * first refusal destroys the output with `UnsafeArchiveError`.
 */
export function guardTar(input: Readable, limits: TarLimits = defaultTarLimits): Readable {
  const extract = tarExtract();
  const out = tarPack();
  let entries = 0;
  let bytes = 0;
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
      linkname = checkType(header, name);
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

/** Checks the entry type; returns the link target to keep for links. */
function checkType(header: Header, name: string | undefined): string | undefined {
  const shown = JSON.stringify(header.name);
  switch (header.type ?? "file") {
    case "file":
    case "contiguous-file":
    case "directory":
      return undefined;
    case "symlink": {
      const target = header.linkname ?? "";
      const resolved = posix.normalize(posix.join(posix.dirname(name ?? "."), target.replaceAll("\\", "/")));
      if (target === "" || target.startsWith("/") || resolved === ".." || resolved.startsWith("../")) {
        throw new UnsafeArchiveError(`archive entry ${shown} is not allowed: symlink to ${JSON.stringify(target)} points outside the context`);
      }
      return target;
    }
    case "link": {
      const target = entryName(header.linkname ?? "");
      if (target === undefined) throw new UnsafeArchiveError(`archive entry ${shown} is not allowed: hard link to the context root`);
      return target;
    }
    default:
      throw new UnsafeArchiveError(`archive entry ${shown} is not allowed: ${header.type ?? "unknown"} entries (devices, fifos) are refused`);
  }
}
