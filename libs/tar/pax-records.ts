import { ArchiveEntryError } from "./archive-errors.js";

/** PAX extended header records, key to value; the last record of a key wins, as POSIX says. */
export type PaxRecords = ReadonlyMap<string, string>;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const textKeys: ReadonlySet<string> = new Set(["path", "linkpath", "GNU.sparse.name"]);

/**
 * Parses the body of a PAX extended header (`"<len> <key>=<value>\n"`
 * records), strictly: a length that does not match its record, a missing
 * `=` or newline, or a value that is not UTF-8 refuses the record (named
 * by `recordName`, the header's own name). Trailing NUL padding is allowed.
 */
export function parsePaxRecords(data: Buffer, recordName: string): PaxRecords {
  const records = new Map<string, string>();
  const bad = (why: string): never => {
    throw new ArchiveEntryError(recordName, `its PAX record ${why}`);
  };
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) {
      if (data.subarray(i).every((b) => b === 0)) break;
      bad(`at byte ${i} holds a NUL byte`);
    }
    const space = data.indexOf(0x20, i);
    const digits = space < 0 ? "" : data.toString("latin1", i, space);
    if (!/^[1-9][0-9]{0,8}$/.test(digits)) bad(`at byte ${i} has no valid length`);
    const end = i + Number(digits);
    if (end > data.length || end <= space + 1 || data[end - 1] !== 0x0a) bad(`at byte ${i} does not end where its length says`);
    const body = data.subarray(space + 1, end - 1);
    const eq = body.indexOf(0x3d);
    if (eq <= 0) bad(`at byte ${i} has no key`);
    let key: string;
    let value: string;
    try {
      key = utf8.decode(body.subarray(0, eq));
      // Names must be exact; other values (binary xattrs) are never used, only dropped.
      value = textKeys.has(key) ? utf8.decode(body.subarray(eq + 1)) : body.toString("utf8", eq + 1);
    } catch {
      return bad(`at byte ${i} is not valid UTF-8`);
    }
    records.set(key, value);
    i = end;
  }
  return records;
}

/** Encodes records as a PAX extended header body. */
export function encodePaxRecords(records: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const line = ` ${key}=${value}\n`;
    const base = Buffer.byteLength(line);
    let len = base + 1;
    while (base + String(len).length !== len) len = base + String(len).length;
    parts.push(Buffer.from(`${len}${line}`));
  }
  return Buffer.concat(parts);
}
