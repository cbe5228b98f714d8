import { pack, type Pack } from "tar-stream";
import { DomainError } from "../errors/domain-error.js";

/** One entry to write; bodies are streamed, never held whole. */
export interface TarEntry {
  /** Relative "/"-separated path, without a trailing slash. */
  readonly path: string;
  readonly type: "file" | "directory" | "symlink";
  /** Permission bits, normalized by the caller (0644/0755). */
  readonly mode: number;
  /** Body size for files; 0 otherwise. */
  readonly size: number;
  /** Target of a symlink. */
  readonly linkname?: string;
  /** Body of a file: exactly `size` bytes. */
  readonly body?: AsyncIterable<Uint8Array>;
}

/**
 * Largest piece yielded (a gRPC message each): 1 MiB less a margin, so a
 * piece with its message framing fits an `[http] max_message_bytes` of 1 MiB.
 */
export const TAR_CHUNK = 1024 * 1024 - 64;

/**
 * Pieces smaller than this (tar headers, padding, small files) are joined
 * until they reach it: one message each would cost more than the copy.
 * Larger ones (the bodies of large files, as their reader gives them) go on
 * as they are, uncopied.
 */
export const TAR_JOIN_BELOW = 64 * 1024;

const EPOCH = new Date(0);

/**
 * Writes entries, in the order given, as a tar with fixed times (epoch),
 * owners (0/0, no names) and the given modes: the same entries always give
 * the same bytes. Output comes while entries are still being read, with
 * backpressure end to end, in pieces of at most TAR_CHUNK bytes: pieces
 * smaller than TAR_JOIN_BELOW are joined, larger ones pass uncopied (split
 * when above TAR_CHUNK).
 */
export async function* packTar(entries: AsyncIterable<TarEntry>, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const p = pack();
  const writing = writeEntries(p, entries, signal).then(
    () => p.finalize(),
    (err: unknown) => {
      p.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    },
  );
  writing.catch(() => undefined);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = (): Buffer => {
    const joined = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return joined;
  };
  try {
    for await (const raw of p as AsyncIterable<Buffer>) {
      if (raw.length < TAR_JOIN_BELOW) {
        pending.push(raw);
        pendingBytes += raw.length;
        if (pendingBytes >= TAR_JOIN_BELOW) yield flush();
        continue;
      }
      if (pendingBytes > 0) yield flush();
      for (let at = 0; at < raw.length; at += TAR_CHUNK) yield raw.subarray(at, at + TAR_CHUNK);
    }
  } catch (err) {
    await writing;
    throw err;
  } finally {
    if (!p.destroyed) p.destroy();
  }
  await writing;
  if (pendingBytes > 0) yield flush();
}

async function writeEntries(p: Pack, entries: AsyncIterable<TarEntry>, signal?: AbortSignal): Promise<void> {
  for await (const e of entries) {
    if (signal?.aborted) throw new DomainError("canceled", "build context stream was cancelled");
    const header = {
      name: e.type === "directory" ? `${e.path}/` : e.path,
      type: e.type,
      mode: e.mode,
      size: e.type === "file" ? e.size : 0,
      mtime: EPOCH,
      uid: 0,
      gid: 0,
      uname: "",
      gname: "",
      linkname: e.linkname ?? "",
    };
    await new Promise<void>((resolve, reject) => {
      const sink = p.entry(header, (err) => (err ? reject(err) : resolve()));
      // A body that fails mid-file errors the entry: the pack fails, the process does not.
      sink.on("error", reject);
      if (e.type !== "file" || e.body === undefined) {
        sink.end(undefined);
        return;
      }
      const body = e.body;
      void (async () => {
        try {
          for await (const piece of body) {
            if (!sink.write(piece)) await new Promise<void>((r) => sink.once("drain", () => r()));
          }
          sink.end(undefined);
        } catch (err) {
          reject(err);
        }
      })();
    });
  }
}
