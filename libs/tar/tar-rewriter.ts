import { ArchiveMalformedError } from "./archive-errors.js";
import type { ConfinedEntry } from "./archive-tree.js";
import type { RawEntry } from "./tar-parser.js";
import { bodyPadding, encodeEntryHeader, END_OF_ARCHIVE, typeflags } from "./tar-writer.js";

/** Pieces below this size (headers, padding, small bodies) are joined before they are pushed. */
export const SMALL_PIECE_BYTES = 4096;

/**
 * Writes a tar again, entry by entry, as the archive confiner writes it:
 * each header from a `ConfinedEntry` (`encodeEntryHeader`), file bodies as
 * the pieces they arrive in, padding, and the end-of-archive blocks once.
 * Pieces under `SMALL_PIECE_BYTES` are held and joined: a stream write each
 * would cost more than copying them. Larger ones are pushed as they are,
 * after what was held.
 */
export interface TarRewriter {
  /** Starts an entry; `undefined` leaves one out, with its body. */
  entry(entry: ConfinedEntry | undefined): void;
  /** Bytes of the current entry's body (dropped unless it is a file written here). */
  body(bytes: Buffer): void;
  /** Ends the current entry, padding its body to a whole block. */
  entryEnd(): void;
  /** Ends the archive; later calls write nothing more. */
  end(): void;
  /** Pushes what is held, as one piece. */
  flush(): void;
}

export function createTarRewriter(push: (piece: Buffer) => void): TarRewriter {
  const small: Buffer[] = [];
  let smallBytes = 0;
  let passing = false;
  let size = 0;
  let ended = false;

  const flush = (): void => {
    if (small.length > 0) push(small.length === 1 ? (small[0] as Buffer) : Buffer.concat(small, smallBytes));
    small.length = 0;
    smallBytes = 0;
  };
  const emit = (piece: Buffer): void => {
    if (piece.length >= SMALL_PIECE_BYTES) {
      flush();
      push(piece);
    } else {
      small.push(piece);
      smallBytes += piece.length;
    }
  };

  return {
    entry(entry) {
      passing = entry?.type === "file";
      size = entry?.type === "file" ? entry.size : 0;
      if (entry !== undefined) emit(encodeEntryHeader(entry));
    },
    body(bytes) {
      if (passing) emit(bytes);
    },
    entryEnd() {
      if (passing && size % 512 !== 0) emit(bodyPadding(size));
      passing = false;
    },
    end() {
      if (!ended) emit(END_OF_ARCHIVE);
      ended = true;
    },
    flush,
  };
}

const confinedTypes = new Map<string, ConfinedEntry["type"]>([...Object.entries(typeflags).map(([type, flag]) => [flag, type as ConfinedEntry["type"]] as const), ["\0", "file"]]);

/**
 * An entry of a confined archive (one the confiner wrote) read back as the
 * `ConfinedEntry` it was written from. A type a confined archive does not
 * hold is refused with `ArchiveMalformedError`, naming the entry.
 */
export function decodeConfinedEntry(raw: RawEntry): ConfinedEntry {
  const mtime = raw.mtime;
  switch (confinedTypes.get(raw.typeflag)) {
    case "file":
      return { type: "file", path: raw.name, mode: raw.mode, size: raw.size, mtime };
    case "directory":
      return { type: "directory", path: raw.name.replace(/\/+$/, ""), mode: raw.mode, mtime };
    case "symlink":
      return { type: "symlink", path: raw.name, target: raw.linkname, mtime };
    case "link":
      return { type: "link", path: raw.name, target: raw.linkname, mode: raw.mode, mtime };
    default:
      throw new ArchiveMalformedError(`entry "${raw.name}" has type "${raw.typeflag}", which a confined archive does not hold`);
  }
}
