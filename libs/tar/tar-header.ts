import { ArchiveEntryError, ArchiveMalformedError } from "./archive-errors.js";

/** The fields of one 512-byte tar header block, decoded but not yet trusted. */
export interface TarHeader {
  /**
   * The name field, joined with the ustar prefix field when the block is
   * POSIX ustar. Bytes that are not UTF-8 show as U+FFFD: a name written
   * whole in an extension record may be cut anywhere in this field.
   */
  readonly name: string;
  readonly nameIsUtf8: boolean;
  readonly linkname: string;
  readonly linknameIsUtf8: boolean;
  readonly typeflag: string;
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a header block at byte `offset` of the archive: checks the
 * checksum (unsigned, or signed as some old writers compute it), reads
 * octal and base-256 numbers, and takes the prefix field only in POSIX
 * ustar blocks (GNU blocks keep other data there).
 */
export function readHeader(block: Buffer, offset: number): TarHeader {
  const stored = octal(block.subarray(148, 156));
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored === undefined || (stored !== unsigned && stored !== signed)) {
    throw new ArchiveMalformedError(`the header at byte ${offset} has a bad checksum`);
  }
  const posixUstar = block.toString("latin1", 257, 263) === "ustar\0";
  const shortName = text(block.subarray(0, 100));
  const prefix = posixUstar ? text(block.subarray(345, 500)) : { text: "", utf8: true };
  const name = prefix.text === "" ? shortName.text : `${prefix.text}/${shortName.text}`;
  const linkname = text(block.subarray(157, 257));
  const number = (start: number, end: number, what: string): number => {
    const n = numeric(block.subarray(start, end));
    if (n === undefined) throw new ArchiveEntryError(name, `its ${what} field is not a valid number`);
    return n;
  };
  return {
    name,
    nameIsUtf8: shortName.utf8 && prefix.utf8,
    linkname: linkname.text,
    linknameIsUtf8: linkname.utf8,
    typeflag: String.fromCharCode(block[156] ?? 0),
    mode: number(100, 108, "mode"),
    size: number(124, 136, "size"),
    mtime: number(136, 148, "mtime"),
  };
}

/** A NUL-terminated field as UTF-8, and whether its bytes were valid UTF-8. */
function text(field: Buffer): { text: string; utf8: boolean } {
  const end = field.indexOf(0);
  const bytes = end < 0 ? field : field.subarray(0, end);
  try {
    return { text: utf8.decode(bytes), utf8: true };
  } catch {
    return { text: bytes.toString("utf8"), utf8: false };
  }
}

/** An octal number padded with spaces or NULs; undefined when it is not one. */
function octal(field: Buffer): number | undefined {
  const end = field.indexOf(0);
  const s = field.toString("latin1", 0, end < 0 ? field.length : end).trim();
  if (!/^[0-7]*$/.test(s)) return undefined;
  const n = s === "" ? 0 : parseInt(s, 8);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A numeric field: octal, or base-256 when the high bit of the first byte is set (negative refused). */
function numeric(field: Buffer): number | undefined {
  const first = field[0] ?? 0;
  if ((first & 0x80) === 0) return octal(field);
  if ((first & 0x40) !== 0) return undefined;
  let n = BigInt(first & 0x3f);
  for (const b of field.subarray(1)) n = (n << 8n) | BigInt(b);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
}
