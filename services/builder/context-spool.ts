import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { DomainError } from "../../libs/errors/domain-error.js";
import { ContextPassRepeatedError } from "./build-errors.js";
import { contextChunks, contextPieces, defaultPieceBytes } from "./context-pieces.js";
import { defaultTempRoot, makeOwnedTempDir, removeOwnedTempDir } from "../../libs/temp/owned-temp.js";

/**
 * A build context written to a temp file as it is read, so it can be sent
 * to a node while it arrives and sent again, whole, to another node when the
 * first one dies. Memory stays flat whatever the context size. Where no
 * second send can happen (a pool of one node), `replayable: false` streams
 * it straight through: no file, one pass.
 */
export interface ContextSpool {
  /**
   * The context from its first byte, in pieces of about `pieceBytes`: bytes
   * already spooled are read back from the file, the rest is pulled from the
   * source (and spooled). Each call starts a fresh pass; passes may overlap.
   * Not replayable: the first call streams the source's chunks (none larger
   * than `pieceBytes`), a later one fails with `ContextPassRepeatedError`.
   */
  chunks(): AsyncIterable<Uint8Array>;
  /** The temp file (0600, in a private folder); undefined when not replayable. */
  readonly path: string | undefined;
  /** Bytes read from the source so far. */
  readonly bytes: number;
  /** The error that ended the source (the upload limit included), if any. */
  readonly failure: Error | undefined;
  /** Removes the temp file (stops reading the source); safe to call twice. */
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
  /**
   * Whether the context can be read again from its first byte (default
   * true). False: nothing is written to disk and `chunks()` may be called
   * once; for a caller that will never resend it.
   */
  readonly replayable?: boolean;
}

/** A piece pulled from the source: where it starts in the context, and its bytes. */
interface Piece {
  readonly at: number;
  readonly bytes: Buffer;
}

const maxPendingPieces = 4;

/**
 * Starts spooling `source` (nothing is read before the first pass). The
 * pass that pulls a piece yields it from memory while it is written to the
 * file, and the next piece is pulled while the current one is sent: the
 * file costs the first pass one write per piece and never a read back.
 * With `replayable: false` no file is made and one pass only is allowed.
 */
export async function createContextSpool(source: Readable, options: ContextSpoolOptions): Promise<ContextSpool> {
  const pieceBytes = options.pieceBytes ?? defaultPieceBytes;
  if (options.replayable === false) return createSinglePass(source, options.maxBytes, pieceBytes);
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
  const pieces = contextPieces(source, { maxBytes: options.maxBytes, pieceBytes });
  /** Bytes pulled from the source (the upload limit counts these). */
  let pulled = 0;
  /** Bytes on file, readable by any pass. */
  let written = 0;
  /** The writes of the pieces pulled, chained in order. */
  let writing: Promise<void> = Promise.resolve();
  /** The source has no more pieces (or failed). */
  let ended = false;
  let failure: Error | undefined;
  let pulling: Promise<Piece | undefined> | undefined;
  let disposed: Promise<void> | undefined;

  const fail = (err: unknown): void => {
    failure ??= err instanceof Error ? err : new Error(String(err));
    ended = true;
    source.destroy();
  };

  /** The next piece of the source, its write started; undefined at the end or on failure. */
  const pullPiece = async (): Promise<Piece | undefined> => {
    try {
      // At most a few pieces wait for the disk; past that the source waits.
      if (pulled - written >= maxPendingPieces * pieceBytes) await writing;
      const next = await pieces.next();
      if (next.done) {
        ended = true;
        return undefined;
      }
      const bytes = next.value;
      const at = pulled;
      pulled += bytes.length;
      // Writes stay in order, one at a time: the previous piece's finishes first.
      writing = writing.then(() => writeAt(file, bytes, at)).then(
        () => void (written = at + bytes.length),
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
            if (!ended && !failure) ahead = pull();
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
        if (ended) return;
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

/**
 * The context streamed straight from the source, one pass, no file: the
 * source's chunks as they come (none larger than `pieceBytes`, none joined,
 * so none copied); the next one is pulled while the current one is sent.
 */
function createSinglePass(source: Readable, maxBytes: number, pieceBytes: number): ContextSpool {
  const pieces = contextChunks(source, { maxBytes, pieceBytes });
  let pulled = 0;
  let failure: Error | undefined;
  let passes = 0;
  let disposed = false;
  let pulling: Promise<unknown> = Promise.resolve();

  /** The next piece; a failure is kept (it ends the build) and the source dropped. */
  const pull = (): Promise<IteratorResult<Buffer, void>> => {
    const next = pieces.next().then(
      (r) => {
        if (!r.done) pulled += r.value.length;
        return r;
      },
      (err: unknown) => {
        failure ??= err instanceof Error ? err : new Error(String(err));
        source.destroy();
        throw failure;
      },
    );
    // Read ahead: a failure is seen by the pass when it gets there, not as an unhandled rejection.
    pulling = next.catch(() => undefined);
    return next;
  };

  return {
    path: undefined,
    get bytes() {
      return pulled;
    },
    get failure() {
      return failure;
    },
    async *chunks() {
      if (passes++ > 0) throw new ContextPassRepeatedError(passes);
      const closed = (): DomainError => new DomainError("aborted", "the build context stream was closed: the build ended while a node was still reading its context");
      let ahead = pull();
      for (;;) {
        if (disposed) throw closed();
        let next: IteratorResult<Buffer, void>;
        try {
          next = await ahead;
        } catch (err) {
          throw disposed ? closed() : err;
        }
        if (next.done) return;
        ahead = pull();
        yield next.value;
      }
    },
    async dispose() {
      disposed = true;
      source.destroy();
      await pulling;
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
