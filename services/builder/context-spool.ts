import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { DomainError } from "../../libs/errors/domain-error.js";
import { UploadTooLargeError } from "./build-errors.js";
import { defaultTempRoot, makeOwnedTempDir, removeOwnedTempDir } from "../../libs/temp/owned-temp.js";

/**
 * A build context written to a temp file as it is read, so it can be sent
 * to a node while it arrives and sent again, whole, to another node when the
 * first one dies. Memory stays flat whatever the context size.
 */
export interface ContextSpool {
  /**
   * The context from its first byte, in pieces of about `pieceBytes`: bytes
   * already spooled are read back from the file, the rest is pulled from the
   * source (and spooled). Each call starts a fresh pass; passes may overlap.
   */
  chunks(): AsyncIterable<Uint8Array>;
  /** The temp file (0600, in a private folder). */
  readonly path: string;
  /** Bytes read from the source so far. */
  readonly bytes: number;
  /** The error that ended the source (the upload limit included), if any. */
  readonly failure: Error | undefined;
  /** Removes the temp file; safe to call twice. */
  dispose(): Promise<void>;
}

export interface ContextSpoolOptions {
  readonly maxBytes: number;
  /** Where the private folder is made (default the owned temp root). */
  readonly dir?: string;
  /**
   * Largest piece a pass yields (default 1 MiB less 64 bytes): one message each on
   * the wire, so a context of hundreds of MiB is a few hundred messages, not
   * thousands of the source's 64 KiB reads.
   */
  readonly pieceBytes?: number;
}

/** A piece pulled from the source: where it starts in the context, and its bytes. */
interface Piece {
  readonly at: number;
  readonly bytes: Buffer;
}

/** 1 MiB less a margin, so a piece with its message framing fits a node's `[http] max_message_bytes` of 1 MiB. */
const defaultPieceBytes = 1024 * 1024 - 64;
const maxPendingPieces = 4;

/**
 * Starts spooling `source` (nothing is read before the first pass). The
 * pass that pulls a piece yields it from memory while it is written to the
 * file, and the next piece is pulled while the current one is sent: the
 * file costs the first pass one write per piece and never a read back.
 */
export async function createContextSpool(source: Readable, options: ContextSpoolOptions): Promise<ContextSpool> {
  // A private folder named after this process, so a start-up sweep removes it if the process is killed.
  const root = options.dir ?? defaultTempRoot();
  const dir = await makeOwnedTempDir(root, "delegate");
  const path = join(dir, "context.tar");
  let file: FileHandle;
  try {
    file = await open(path, "w+", 0o600);
  } catch (err) {
    await removeOwnedTempDir(dir, root);
    throw err;
  }
  const pieceBytes = options.pieceBytes ?? defaultPieceBytes;
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array | string>;
  /** Bytes pulled from the source (the upload limit counts these). */
  let pulled = 0;
  /** Bytes on file, readable by any pass. */
  let written = 0;
  /** The writes of the pieces pulled, chained in order. */
  let writing: Promise<void> = Promise.resolve();
  /** The end of a source chunk that did not fit in the last piece. */
  let carry: Buffer | undefined;
  /** The source has no more chunks (`carry` may still hold bytes). */
  let ended = false;
  let failure: Error | undefined;
  let pulling: Promise<Piece | undefined> | undefined;
  let disposed: Promise<void> | undefined;

  const fail = (err: unknown): void => {
    failure ??= err instanceof Error ? err : new Error(String(err));
    ended = true;
    carry = undefined;
    source.destroy();
  };

  /** Joins source chunks up to one piece, starts writing it, and returns it; undefined at the end or on failure. */
  const pullPiece = async (): Promise<Piece | undefined> => {
    try {
      // At most a few pieces wait for the disk; past that the source waits.
      if (pulled - written >= maxPendingPieces * pieceBytes) await writing;
      const parts: Buffer[] = [];
      let size = 0;
      while (size < pieceBytes) {
        let chunk = carry;
        carry = undefined;
        if (chunk === undefined) {
          if (ended) break;
          const next = await it.next();
          if (next.done) {
            ended = true;
            break;
          }
          chunk = typeof next.value === "string" ? Buffer.from(next.value) : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
          if (pulled + size + chunk.length > options.maxBytes) throw new UploadTooLargeError(options.maxBytes);
        }
        // A chunk larger than what the piece still takes is split; the rest starts the next piece.
        const room = pieceBytes - size;
        if (chunk.length > room) {
          carry = chunk.subarray(room);
          chunk = chunk.subarray(0, room);
        }
        parts.push(chunk);
        size += chunk.length;
      }
      if (size === 0) return undefined;
      const bytes = parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts, size);
      const at = pulled;
      pulled += size;
      // Writes stay in order, one at a time: the previous piece's finishes first.
      writing = writing.then(() => writeAt(file, bytes, at)).then(
        () => void (written = at + size),
        (err: unknown) => fail(err),
      );
      return { at, bytes };
    } catch (err) {
      fail(err);
      return undefined;
    }
  };

  /** The next piece from the source; passes waiting at the same point share one pull. */
  const pull = (): Promise<Piece | undefined> =>
    (pulling ??= pullPiece().finally(() => {
      pulling = undefined;
    }));

  return {
    path,
    get bytes() {
      return pulled;
    },
    get failure() {
      return failure;
    },
    async *chunks() {
      let pos = 0;
      /** This pass's read-ahead: the next piece is joined while the current one is sent. */
      let ahead: Promise<Piece | undefined> | undefined;
      for (;;) {
        if (disposed) throw new DomainError("aborted", "the build context spool was removed: the build ended while a node was still reading its context");
        if (ahead) {
          const piece = await ahead;
          ahead = undefined;
          if (piece?.at === pos) {
            if ((!ended || carry !== undefined) && !failure) ahead = pull();
            pos += piece.bytes.length;
            yield piece.bytes;
          }
          continue;
        }
        if (pos < written) {
          const buf = Buffer.allocUnsafe(Math.min(pieceBytes, written - pos));
          const { bytesRead } = await file.read(buf, 0, buf.length, pos);
          pos += bytesRead;
          yield buf.subarray(0, bytesRead);
          continue;
        }
        if (failure) throw failure;
        if (pos < pulled) {
          // Pulled by another pass and still being written.
          await writing;
          continue;
        }
        if (ended && carry === undefined) return;
        ahead = pull();
      }
    },
    dispose() {
      return (disposed ??= (async () => {
        source.destroy();
        await pulling?.catch(() => undefined);
        await writing.catch(() => undefined);
        await file.close().catch(() => undefined);
        await removeOwnedTempDir(dir, root);
      })());
    },
  };
}

/** Writes all of `bytes` at `position` (a single write may be short). */
async function writeAt(file: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
