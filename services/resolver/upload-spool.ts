import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { once } from "node:events";
import { extract, pack, type Header } from "tar-stream";

/** One parsed entry: its header and its body. */
interface TarEntryStream extends AsyncIterable<Uint8Array> {
  readonly header: Header;
  resume(): unknown;
  destroy(err?: Error): unknown;
}
import { DomainError, isDomainError } from "../../libs/errors/domain-error.js";
import type { TarEntry } from "../../libs/tar/deterministic-tar.js";
import { defaultTempRoot, makeOwnedTempDir, removeOwnedTempDir } from "../../libs/temp/owned-temp.js";
import { createContextDigest, type ContextDigest } from "./context-digest.js";
import { UploadCanceledError, UploadEntryError, UploadTimeoutError, UploadTooLargeError } from "./upload-errors.js";

/** Limits of one upload. */
export interface SpoolOptions {
  /** `[builder] max_upload_bytes`: most bytes of tar accepted. */
  readonly maxBytes: number;
  /** `[builder] upload_timeout_secs`: the whole upload must end within it. */
  readonly timeoutSecs: number;
  /** Root of the owned spool folder; buildplane's private temp root when absent (swept at start after a crash). */
  readonly tmpDir?: string | undefined;
}

/** An uploaded context, checked, hashed and kept on disk until disposed. */
export interface SpooledContext {
  /** Content hash of the entries, as a local folder's is computed. */
  readonly treeHash: string;
  /** Paths of the regular files in the context. */
  readonly files: ReadonlySet<string>;
  /** Bytes of tar received. */
  readonly bytes: number;
  /** The context as a deterministic tar, from the first byte; each call reads afresh. */
  chunks(signal: AbortSignal): AsyncIterable<Uint8Array>;
  /** Removes the spool folder; safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * Receives an uploaded context tar and spools it to an owned private folder
 * (0700, the file 0600; swept at start when a killed process left it) while hashing it. The tar is not kept as sent: each entry
 * is checked (a file, folder or symlink at a clean relative path, in path
 * order, each once) and written again by the deterministic packer, so every
 * header field the hash does not cover (times, owners, PAX records) is
 * dropped and the builder gets exactly what was hashed. Past `maxBytes`,
 * past the time limit, on a malformed entry or when the caller leaves, the
 * folder is removed before the error is thrown.
 */
export async function spoolUpload(source: AsyncIterator<Uint8Array>, options: SpoolOptions, signal: AbortSignal): Promise<SpooledContext> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new UploadTimeoutError(options.timeoutSecs)), options.timeoutSecs * 1000);
  const onCallerGone = (): void => stop.abort(new UploadCanceledError());
  if (signal.aborted) onCallerGone();
  else signal.addEventListener("abort", onCallerGone, { once: true });
  const root = options.tmpDir ?? defaultTempRoot();
  const dir = await makeOwnedTempDir(root, "upload");
  const path = join(dir, "context.tar");
  let disposed: Promise<void> | undefined;
  const dispose = (): Promise<void> => (disposed ??= removeOwnedTempDir(dir, root));
  const input = new PassThrough();
  const ex = extract();
  // Listening for entries before any byte arrives: the parser drops an entry nobody listens for.
  const parsing = ex[Symbol.asyncIterator]() as AsyncIterator<TarEntryStream>;
  const parsed: AsyncIterable<TarEntryStream> = { [Symbol.asyncIterator]: () => parsing };
  // The entry being read: a parser torn down mid-body does not end its entry's stream.
  const reading: { current?: TarEntryStream | undefined } = {};
  const tearDown = (): void => {
    const reason: unknown = stop.signal.reason;
    const err = reason instanceof Error ? reason : new Error(String(reason));
    input.destroy();
    reading.current?.destroy(err);
    ex.destroy(err);
  };
  stop.signal.addEventListener("abort", tearDown, { once: true });
  input.on("error", (err: Error) => ex.destroy(err));
  input.pipe(ex as unknown as NodeJS.WritableStream);
  try {
    const feeding = feed(source, input, options.maxBytes, stop.signal);
    feeding.catch((err: unknown) => stop.abort(err));
    const digest = createContextDigest();
    const files = new Set<string>();
    const out = await open(path, "wx", 0o600);
    const packing = repack(checkedEntries(parsed, digest, files, reading), out).finally(() => out.close());
    packing.catch(() => undefined);
    // Once the upload stops (limit, time, caller gone) nothing waits for the packer: its streams are torn down and the folder removed.
    await untilAborted(packing, stop.signal);
    const bytes = await feeding;
    stop.signal.throwIfAborted();
    return {
      treeHash: digest.digest(),
      files,
      bytes,
      async *chunks(readSignal) {
        for await (const piece of createReadStream(path, { signal: readSignal, highWaterMark: 64 * 1024 })) yield piece as Buffer;
      },
      dispose,
    };
  } catch (err) {
    ex.destroy();
    input.destroy();
    await dispose();
    throw stop.signal.aborted ? stop.signal.reason : asDomainError(err);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onCallerGone);
    stop.signal.removeEventListener("abort", tearDown);
  }
}

const epoch = new Date(0);

/**
 * Writes the checked entries as `packTar` does (fixed times and owners, the
 * given modes), to `out`. Written here rather than through `packTar` because
 * an uploaded body can fail mid-entry (caller gone, truncated tar): every
 * entry stream gets an error listener, so such a failure rejects this call
 * instead of surfacing as an unhandled stream error.
 */
async function repack(entries: AsyncIterable<TarEntry>, out: FileHandle): Promise<void> {
  const p = pack();
  const draining = (async () => {
    for await (const piece of p as AsyncIterable<Buffer>) await out.write(piece);
  })();
  draining.catch(() => undefined);
  try {
    for await (const e of entries) {
      await new Promise<void>((resolve, reject) => {
        const header = { name: e.type === "directory" ? `${e.path}/` : e.path, type: e.type, mode: e.mode, size: e.type === "file" ? e.size : 0, mtime: epoch, uid: 0, gid: 0, uname: "", gname: "", linkname: e.linkname ?? "" };
        const sink = p.entry(header, (err) => (err ? reject(err) : resolve()));
        sink.on("error", reject);
        const body = e.body;
        if (e.type !== "file" || body === undefined) {
          sink.end(undefined);
          return;
        }
        void (async () => {
          try {
            for await (const piece of body) if (!sink.write(piece)) await once(sink, "drain");
            sink.end(undefined);
          } catch (err) {
            sink.destroy(err instanceof Error ? err : new Error(String(err)));
            reject(err);
          }
        })();
      });
    }
    p.finalize();
    await draining;
  } catch (err) {
    p.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

/** Copies the caller's chunks into the tar parser, counting bytes; resolves with the total once the caller's stream ended. */
async function feed(source: AsyncIterator<Uint8Array>, input: PassThrough, maxBytes: number, signal: AbortSignal): Promise<number> {
  let total = 0;
  try {
    for (;;) {
      const next = await untilAborted(source.next(), signal);
      if (next.done === true) break;
      total += next.value.length;
      if (total > maxBytes) throw new UploadTooLargeError(maxBytes);
      if (!input.write(next.value)) await once(input, "drain", { signal });
    }
    input.end();
    return total;
  } catch (err) {
    const reason = signal.aborted ? signal.reason : err;
    input.destroy(reason instanceof Error ? reason : new Error(String(reason)));
    throw reason;
  }
}

/** The parsed entries, checked and hashed, as the packer takes them. */
async function* checkedEntries(
  ex: AsyncIterable<TarEntryStream>,
  digest: ContextDigest,
  files: Set<string>,
  reading: { current?: TarEntryStream | undefined },
): AsyncGenerator<TarEntry> {
  let previous: Buffer | undefined;
  for await (const entry of ex) {
    reading.current = entry;
    const h = entry.header;
    const path = entryPath(h.name, h.type === "directory");
    const key = Buffer.from(path);
    if (previous !== undefined && Buffer.compare(previous, key) >= 0) {
      throw new UploadEntryError(h.name, "entries must come in path order, each path once, as buildplane packs a folder");
    }
    previous = key;
    if (h.type === "directory") {
      entry.resume();
      digest.add({ path, kind: "directory", executable: true, content: "" });
      yield { path, type: "directory", mode: 0o755, size: 0 };
    } else if (h.type === "symlink") {
      entry.resume();
      const target = h.linkname ?? "";
      if (target === "" || target.includes("\0")) throw new UploadEntryError(h.name, "a symlink needs a target without NUL bytes");
      digest.add({ path, kind: "symlink", executable: false, content: target });
      yield { path, type: "symlink", mode: 0o777, size: 0, linkname: target };
    } else if (h.type === "file") {
      const executable = ((h.mode ?? 0) & 0o111) !== 0;
      const hash = createHash("sha256");
      yield { path, type: "file", mode: executable ? 0o755 : 0o644, size: h.size ?? 0, body: hashed(entry, hash) };
      // The packer asks for the next entry only once this body was written whole.
      digest.add({ path, kind: "file", executable, content: hash.digest("hex") });
      files.add(path);
    } else {
      throw new UploadEntryError(h.name, `type ${h.type ?? "unknown"} is not allowed: expected a file, folder or symlink`);
    }
  }
}

async function* hashed(body: AsyncIterable<Uint8Array>, hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  for await (const piece of body) {
    hash.update(piece);
    yield piece;
  }
}

/** The entry's path without a folder's trailing slash; refused unless it is a clean relative path. */
function entryPath(name: string, directory: boolean): string {
  const path = directory && name.endsWith("/") ? name.slice(0, -1) : name;
  const segments = path.split("/");
  if (path === "" || path.includes("\0") || segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new UploadEntryError(name, "expected a relative path without empty, '.' or '..' segments");
  }
  return path;
}

/** Resolves or rejects as `p` does, or rejects with the signal's reason once it aborts. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A tar parser's own error (a truncated or garbled archive) as an invalid argument. */
function asDomainError(err: unknown): unknown {
  if (isDomainError(err)) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new DomainError("invalidArgument", `uploaded context is not a valid tar archive: ${detail}`, { cause: err });
}
