import { ArchiveEntryError, ArchiveLimitError, ArchiveMalformedError } from "./archive-errors.js";
import type { ArchiveLimits } from "./archive-limits.js";
import { readHeader, type TarHeader } from "./tar-header.js";
import { parsePaxRecords, type PaxRecords } from "./pax-records.js";

/**
 * One entry as the archive declares it, PAX and GNU extension records
 * already applied: `name` is the effective name a tar reader would use.
 * Nothing here is validated yet; `createArchiveTree` decides.
 */
export interface RawEntry {
  readonly name: string;
  readonly linkname: string;
  /** The type byte as a character: "0", "5", "2", "1", "\0", "3"… */
  readonly typeflag: string;
  readonly mode: number;
  /** Body length in bytes; the PAX `size` record wins over the header field. */
  readonly size: number;
  readonly mtime: number;
  /** True when PAX records of the GNU sparse formats (`GNU.sparse.*`) came with the entry. */
  readonly sparse: boolean;
  /** Byte offset of the entry's header in the archive. */
  readonly offset: number;
}

/** What one piece of input holds, in order. `data` views point into the piece given. */
export type TarEvent =
  | { readonly kind: "entry"; readonly entry: RawEntry }
  | { readonly kind: "data"; readonly bytes: Buffer }
  | { readonly kind: "entryEnd" }
  | { readonly kind: "end" };

/** A push parser: bytes in, events out, holding at most one block and one extension record. */
export interface TarParser {
  push(chunk: Buffer): TarEvent[];
  /** Called at the end of input: refuses an archive that stops inside an entry. */
  end(): TarEvent[];
}

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

type RecordKind = "pax" | "global" | "longname" | "longlink";

interface Pending {
  pax?: PaxRecords;
  longname?: string;
  longlink?: string;
}

/**
 * Creates a streaming tar reader for ustar, PAX and GNU archives. It reads
 * extension records itself (PAX `x` and `g`, GNU `L` and `K`) so that the
 * name it reports is the one any other reader would act on, and it refuses
 * what makes readers disagree: a bad checksum, two extension records of one
 * kind for one entry, a PAX path and a GNU long name that differ, a global
 * record that renames or resizes entries, a lone zero block followed by more
 * entries. Bytes after the end-of-archive marker are ignored.
 */
export function createTarParser(limits: ArchiveLimits): TarParser {
  const block = Buffer.alloc(BLOCK);
  let fill = 0;
  let state: "header" | "body" | "record" | "padding" | "done" = "header";
  let remaining = 0;
  let padding = 0;
  let pos = 0;
  let zeroBlocks = 0;
  let pending: Pending = {};
  let record: { kind: RecordKind; name: string; parts: Buffer[] } | undefined;
  let events: TarEvent[] = [];
  /** Length of the body being read (an entry's or an extension record's), for its padding. */
  let bodySize = 0;

  const afterBody = (): void => {
    padding = (BLOCK - (bodySize % BLOCK)) % BLOCK;
    state = padding > 0 ? "padding" : "header";
  };

  const onHeader = (): void => {
    const offset = pos - BLOCK;
    if (block.equals(ZERO_BLOCK)) {
      if (pending.pax || pending.longname !== undefined || pending.longlink !== undefined) {
        throw new ArchiveMalformedError(`the extension record before byte ${offset} is followed by the end of the archive`);
      }
      if (++zeroBlocks === 2) {
        state = "done";
        events.push({ kind: "end" });
      }
      return;
    }
    if (zeroBlocks > 0) throw new ArchiveMalformedError(`the zero block at byte ${offset - BLOCK} is followed by more entries`);
    const header = readHeader(block, offset);
    switch (header.typeflag) {
      case "x":
        return startRecord("pax", header);
      case "g":
        return startRecord("global", header);
      case "L":
        return startRecord("longname", header);
      case "K":
        return startRecord("longlink", header);
      default:
        return startEntry(header, offset);
    }
  };

  const startRecord = (kind: RecordKind, header: TarHeader): void => {
    const name = header.name;
    if (header.size > limits.maxRecordBytes) {
      throw new ArchiveLimitError(name, `extension record of ${header.size} bytes is larger than the limit of ${limits.maxRecordBytes}`);
    }
    const taken = kind === "pax" ? pending.pax !== undefined : kind === "longname" ? pending.longname !== undefined : kind === "longlink" ? pending.longlink !== undefined : false;
    if (taken) throw new ArchiveEntryError(name, `a second ${recordLabel[kind]} record comes before the entry it applies to`);
    record = { kind, name, parts: [] };
    remaining = bodySize = header.size;
    if (remaining === 0) finishRecord();
    else state = "record";
  };

  const finishRecord = (): void => {
    const done = record;
    record = undefined;
    if (done === undefined) return;
    const data = Buffer.concat(done.parts);
    switch (done.kind) {
      case "pax":
        pending.pax = parsePaxRecords(data, done.name);
        break;
      case "global": {
        const records = parsePaxRecords(data, done.name);
        const key = [...records.keys()].find((k) => k === "path" || k === "linkpath" || k === "size" || k.startsWith("GNU.sparse."));
        if (key !== undefined) throw new ArchiveEntryError(done.name, `a global PAX record may not set "${key}" for every entry`);
        break;
      }
      case "longname":
        pending.longname = longText(data, done.name);
        break;
      case "longlink":
        pending.longlink = longText(data, done.name);
        break;
    }
    afterBody();
  };

  const startEntry = (header: TarHeader, offset: number): void => {
    const { pax, longname, longlink } = pending;
    pending = {};
    const name = pick("name", [["PAX path", pax?.get("path")], ["GNU.sparse.name", pax?.get("GNU.sparse.name")], ["GNU long name", longname]]);
    if (name === undefined && !header.nameIsUtf8) throw new ArchiveEntryError(header.name, `the name in the header at byte ${offset} is not valid UTF-8`);
    const linkname = pick("link target", [["PAX linkpath", pax?.get("linkpath")], ["GNU long link", longlink]], name ?? header.name);
    if (linkname === undefined && !header.linknameIsUtf8) throw new ArchiveEntryError(name ?? header.name, `the link target in the header at byte ${offset} is not valid UTF-8`);
    const size = pax?.has("size") === true ? paxInteger(pax, "size", name ?? header.name) : header.size;
    const mtime = pax?.has("mtime") === true ? paxSeconds(pax, name ?? header.name) : header.mtime;
    const sparse = pax !== undefined && [...pax.keys()].some((k) => k.startsWith("GNU.sparse."));
    events.push({ kind: "entry", entry: { name: name ?? header.name, linkname: linkname ?? header.linkname, typeflag: header.typeflag, mode: header.mode, size, mtime, sparse, offset } });
    remaining = bodySize = size;
    if (size === 0) {
      events.push({ kind: "entryEnd" });
      afterBody();
    } else {
      state = "body";
    }
  };

  return {
    push(chunk) {
      events = [];
      let i = 0;
      while (i < chunk.length) {
        switch (state) {
          case "done":
            pos += chunk.length - i;
            i = chunk.length;
            break;
          case "header": {
            const n = Math.min(BLOCK - fill, chunk.length - i);
            chunk.copy(block, fill, i, i + n);
            fill += n;
            i += n;
            pos += n;
            if (fill === BLOCK) {
              fill = 0;
              onHeader();
            }
            break;
          }
          case "body": {
            const n = Math.min(remaining, chunk.length - i);
            events.push({ kind: "data", bytes: chunk.subarray(i, i + n) });
            remaining -= n;
            i += n;
            pos += n;
            if (remaining === 0) {
              events.push({ kind: "entryEnd" });
              afterBody();
            }
            break;
          }
          case "record": {
            const n = Math.min(remaining, chunk.length - i);
            record?.parts.push(Buffer.from(chunk.subarray(i, i + n)));
            remaining -= n;
            i += n;
            pos += n;
            if (remaining === 0) finishRecord();
            break;
          }
          case "padding": {
            const n = Math.min(padding, chunk.length - i);
            padding -= n;
            i += n;
            pos += n;
            if (padding === 0) state = "header";
            break;
          }
        }
      }
      return events;
    },
    end() {
      events = [];
      if (state === "done") return events;
      if (state !== "header" || fill !== 0 || record !== undefined || pending.pax || pending.longname !== undefined || pending.longlink !== undefined) {
        throw new ArchiveMalformedError(`it ends early, at byte ${pos}`);
      }
      events.push({ kind: "end" });
      return events;
    },
  };
}

const recordLabel: Record<RecordKind, string> = {
  pax: "PAX extended header",
  global: "PAX global header",
  longname: "GNU long name",
  longlink: "GNU long link",
};

/**
 * The value of an extension record a reader would use instead of the
 * header's, or undefined when there is none. Extension records that
 * disagree are refused, since readers differ on which one wins (Go prefers
 * the GNU long name, tar-stream PAX).
 */
function pick(what: string, candidates: ReadonlyArray<readonly [string, string | undefined]>, entry?: string): string | undefined {
  let chosen: readonly [string, string] | undefined;
  for (const [label, value] of candidates) {
    if (value === undefined) continue;
    if (chosen !== undefined && chosen[1] !== value) {
      throw new ArchiveEntryError(entry ?? chosen[1], `its ${chosen[0]} ${JSON.stringify(chosen[1])} and ${label} ${JSON.stringify(value)} disagree on the ${what}`);
    }
    chosen ??= [label, value];
  }
  return chosen?.[1];
}

/** The text of a GNU long name or long link record: UTF-8 up to its terminating NUL bytes. */
function longText(data: Buffer, recordName: string): string {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  try {
    return utf8.decode(data.subarray(0, end));
  } catch {
    throw new ArchiveEntryError(recordName, "its GNU long name record is not valid UTF-8");
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function paxInteger(pax: PaxRecords, key: string, entry: string): number {
  const value = pax.get(key) ?? "";
  const n = /^[0-9]{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new ArchiveEntryError(entry, `its PAX ${key} ${JSON.stringify(value)} is not valid: expected a whole number`);
  return n;
}

/** PAX `mtime`: seconds, maybe negative or fractional; whole seconds are kept. */
function paxSeconds(pax: PaxRecords, entry: string): number {
  const value = pax.get("mtime") ?? "";
  if (!/^-?[0-9]{1,16}(\.[0-9]*)?$/.test(value)) throw new ArchiveEntryError(entry, `its PAX mtime ${JSON.stringify(value)} is not valid: expected seconds`);
  return Math.floor(Number(value));
}
