import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { DomainError } from "../../../libs/errors/domain-error.js";
import { UploadTooLargeError } from "./delegate-errors.js";
import { defaultTempRoot, makeOwnedTempDir, removeOwnedTempDir } from "../../../libs/temp/owned-temp.js";

/**
 * A build context written to a temp file as it is read, so it can be sent
 * to a node while it arrives and sent again, whole, to another node when the
 * first one dies. Memory stays flat whatever the context size.
 */
export interface ContextSpool {
  /**
   * The context from its first byte: bytes already spooled are read back
   * from the file, the rest is pulled from the source (and spooled). Each
   * call starts a fresh pass; passes may overlap.
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

const readSize = 256 * 1024;

/** Starts spooling `source` (nothing is read before the first pass). */
export async function createContextSpool(source: Readable, options: { readonly maxBytes: number; readonly dir?: string }): Promise<ContextSpool> {
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
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array | string>;
  let written = 0;
  let ended = false;
  let failure: Error | undefined;
  let ingesting: Promise<void> | undefined;
  let disposed: Promise<void> | undefined;

  /** Pulls one chunk from the source into the file; concurrent callers share the pull. */
  const ingest = (): Promise<void> =>
    (ingesting ??= (async () => {
      try {
        const next = await it.next();
        if (next.done) {
          ended = true;
          return;
        }
        const chunk = typeof next.value === "string" ? Buffer.from(next.value) : next.value;
        if (written + chunk.length > options.maxBytes) throw new UploadTooLargeError(options.maxBytes);
        await file.write(chunk, 0, chunk.length, written);
        written += chunk.length;
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
        ended = true;
        source.destroy();
      } finally {
        ingesting = undefined;
      }
    })());

  return {
    path,
    get bytes() {
      return written;
    },
    get failure() {
      return failure;
    },
    async *chunks() {
      let pos = 0;
      for (;;) {
        if (disposed) throw new DomainError("aborted", "the build context spool was removed: the build ended while a node was still reading its context");
        if (pos < written) {
          const buf = Buffer.allocUnsafe(Math.min(readSize, written - pos));
          const { bytesRead } = await file.read(buf, 0, buf.length, pos);
          pos += bytesRead;
          yield buf.subarray(0, bytesRead);
          continue;
        }
        if (failure) throw failure;
        if (ended) return;
        await ingest();
      }
    },
    dispose() {
      return (disposed ??= (async () => {
        source.destroy();
        await file.close().catch(() => undefined);
        await removeOwnedTempDir(dir, root);
      })());
    },
  };
}
