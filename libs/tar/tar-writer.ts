import type { ConfinedEntry } from "./archive-tree.js";
import { encodePaxRecords } from "./pax-records.js";

const BLOCK = 512;

/** Two zero blocks: the end of a tar archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

const zeros = Buffer.alloc(BLOCK);

/** The zero bytes that pad a body of `size` bytes to a whole block. */
export function bodyPadding(size: number): Buffer {
  return zeros.subarray(0, (BLOCK - (size % BLOCK)) % BLOCK);
}

/** The typeflag the writer gives each kind of confined entry. */
export const typeflags: Readonly<Record<ConfinedEntry["type"], string>> = { file: "0", directory: "5", symlink: "2", link: "1" };

/**
 * The header of a confined entry as POSIX ustar, with owner 0:0 and no user
 * or group names. A name or link target too long for the ustar fields goes
 * into a PAX extended header that holds only `path` and `linkpath`; the
 * ustar name field then holds a placeholder, never a cut name.
 */
export function encodeEntryHeader(entry: ConfinedEntry): Buffer {
  const name = entry.type === "directory" ? `${entry.path}/` : entry.path;
  const linkname = entry.type === "symlink" || entry.type === "link" ? entry.target : "";
  const split = splitName(name);
  const records: Array<[string, string]> = [];
  if (split === undefined) records.push(["path", name]);
  if (Buffer.byteLength(linkname) > 100) records.push(["linkpath", linkname]);
  const header = ustar({
    name: split?.name ?? "@PaxLongName",
    prefix: split?.prefix ?? "",
    mode: entry.type === "symlink" ? 0o777 : entry.mode,
    size: entry.type === "file" ? entry.size : 0,
    mtime: entry.mtime,
    typeflag: typeflags[entry.type],
    linkname: records.some(([k]) => k === "linkpath") ? "" : linkname,
  });
  if (records.length === 0) return header;
  const body = encodePaxRecords(records);
  const paxHeader = ustar({ name: "@PaxHeader", prefix: "", mode: 0o644, size: body.length, mtime: entry.mtime, typeflag: "x", linkname: "" });
  return Buffer.concat([paxHeader, body, bodyPadding(body.length), header]);
}

/** `name` as ustar prefix and name fields, or undefined when it does not fit. */
function splitName(name: string): { prefix: string; name: string } | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes <= 100) return { prefix: "", name };
  if (bytes > 256) return undefined;
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) > 155) return undefined;
    if (rest !== "" && Buffer.byteLength(rest) <= 100) return { prefix, name: rest };
  }
  return undefined;
}

interface UstarFields {
  readonly name: string;
  readonly prefix: string;
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: string;
  readonly linkname: string;
}

function ustar(f: UstarFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name, 0, 100, "utf8");
  writeOctal(b, 100, 8, f.mode);
  writeOctal(b, 108, 8, 0);
  writeOctal(b, 116, 8, 0);
  writeSize(b, f.size);
  writeOctal(b, 136, 12, Math.min(f.mtime, 8 ** 11 - 1));
  b.write(f.typeflag, 156, 1, "latin1");
  b.write(f.linkname, 157, 100, "utf8");
  b.write("ustar\0", 257, 6, "latin1");
  b.write("00", 263, 2, "latin1");
  writeOctal(b, 329, 8, 0);
  writeOctal(b, 337, 8, 0);
  b.write(f.prefix, 345, 155, "utf8");
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i] ?? 0;
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
  return b;
}

function writeOctal(b: Buffer, offset: number, length: number, value: number): void {
  b.write(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length, "latin1");
}

/** Sizes of 8 GiB and more do not fit 11 octal digits: base-256, as GNU tar and Go write them. */
function writeSize(b: Buffer, size: number): void {
  if (size < 8 ** 11) return writeOctal(b, 124, 12, size);
  b[124] = 0x80;
  let rest = BigInt(size);
  for (let i = 135; i > 124; i--, rest >>= 8n) b[i] = Number(rest & 0xffn);
}
