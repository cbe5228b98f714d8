import { createWriteStream } from "node:fs";
import { chmod, link, lstat, mkdir, rm, symlink, unlink } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract, type Header } from "tar-stream";
import { DomainError } from "../errors/domain-error.js";
import { TarCanceledError, TarEntryRejectedError, TarLimitError, TarMalformedError } from "./tar-errors.js";

/** Limits of one extraction. */
export interface ExtractOptions {
  /** Largest total of entry sizes, in bytes. */
  readonly maxBytes: number;
  /** Largest number of entries. */
  readonly maxEntries: number;
  readonly signal?: AbortSignal;
}

/** What was written. */
export interface ExtractResult {
  readonly entries: number;
  readonly bytes: number;
}

/**
 * Unpacks an untrusted tar (an uploaded build context) into `targetDir`,
 * confined to it: names must be relative without `..`, links must point
 * inside (symlinks relative to their own folder, hard links at files already
 * written), no entry may be written through a symlink, and only files,
 * folders and links are accepted (no devices or fifos). Set-id bits are
 * dropped. On any violation, limit, malformed input or cancel, the target
 * folder is removed and a DomainError names the entry and the rule.
 */
export async function extractTar(input: Readable, targetDir: string, opts: ExtractOptions): Promise<ExtractResult> {
  const ex = extract();
  let entries = 0;
  let bytes = 0;
  let current: { destroy(err?: Error): unknown } | undefined;
  const onAbort = () => {
    current?.destroy(new TarCanceledError());
    ex.destroy(new TarCanceledError());
    input.destroy();
  };
  const failed = new Promise<never>((_, reject) => {
    ex.on("error", (err: Error) => {
      current?.destroy(err);
      reject(err);
    });
  });
  failed.catch(() => undefined);
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (opts.signal?.aborted) throw new TarCanceledError();
    await mkdir(targetDir, { recursive: true });
    input.on("error", (err: Error) => ex.destroy(err));
    input.pipe(ex as unknown as NodeJS.WritableStream);
    const loop = async () => {
      for await (const entry of ex) {
        const h = entry.header;
        entries++;
        if (entries > opts.maxEntries) throw new TarLimitError(h.name, "entries", opts.maxEntries);
        bytes += h.size;
        if (bytes > opts.maxBytes) throw new TarLimitError(h.name, "bytes", opts.maxBytes);
        const rel = confinedName(h.name);
        if (rel === "") {
          entry.resume();
          continue;
        }
        await assertNoLinkOnPath(targetDir, rel, h.name);
        const dest = join(targetDir, rel);
        current = entry;
        await writeEntry(h, rel, dest, targetDir, entry as unknown as EntryBody);
        current = undefined;
      }
    };
    const looping = loop();
    looping.catch(() => undefined);
    await Promise.race([looping, failed]);
    if (opts.signal?.aborted) throw new TarCanceledError();
    return { entries, bytes };
  } catch (err) {
    ex.destroy();
    input.destroy();
    await rm(targetDir, { recursive: true, force: true });
    if (opts.signal?.aborted) throw new TarCanceledError();
    if (err instanceof DomainError) throw err;
    throw new TarMalformedError(err instanceof Error ? err.message.toLowerCase() : String(err));
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

/** The entry name made relative and clean, or a rejection. */
function confinedName(name: string): string {
  if (name.includes("\0") || name.includes("\\")) throw new TarEntryRejectedError(name, "names must not hold NUL or backslashes");
  if (name.startsWith("/")) throw new TarEntryRejectedError(name, "absolute names are not allowed");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new TarEntryRejectedError(name, "names must not contain '..'");
  return parts.join("/");
}

async function assertNoLinkOnPath(root: string, rel: string, name: string): Promise<void> {
  const parts = rel.split("/");
  let cur = root;
  for (const part of parts.slice(0, -1)) {
    cur = join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (st === undefined) return;
    if (st.isSymbolicLink()) throw new TarEntryRejectedError(name, "entries must not be written through a symlink");
    if (!st.isDirectory()) throw new TarEntryRejectedError(name, "a parent of the entry is not a folder");
  }
}

/** An entry body as tar-stream gives it. */
type EntryBody = AsyncIterable<Buffer> & { resume(): unknown };

async function writeEntry(h: Header, rel: string, dest: string, root: string, body: EntryBody): Promise<void> {
  const mode = h.mode & 0o777;
  const parent = posix.dirname(rel);
  if (parent !== ".") await mkdir(join(root, parent), { recursive: true, mode: 0o755 });
  switch (h.type) {
    case "directory": {
      body.resume();
      const st = await lstat(dest).catch(() => undefined);
      if (st !== undefined && !st.isDirectory()) await unlink(dest);
      await mkdir(dest, { recursive: true });
      await chmod(dest, mode | 0o700);
      return;
    }
    case "file":
    case "contiguous-file": {
      await removeExisting(dest, h.name);
      await pipeline(body, createWriteStream(dest, { flags: "wx", mode: mode | 0o600 }));
      await chmod(dest, mode | 0o600);
      return;
    }
    case "symlink": {
      body.resume();
      const target = h.linkname ?? "";
      if (target === "" || target.startsWith("/")) throw new TarEntryRejectedError(h.name, "symlinks must be relative");
      const resolved = posix.normalize(posix.join(parent, target));
      if (resolved === ".." || resolved.startsWith("../")) throw new TarEntryRejectedError(h.name, "symlinks must point inside the target folder");
      await removeExisting(dest, h.name);
      await symlink(target, dest);
      return;
    }
    case "link": {
      body.resume();
      const target = confinedName(h.linkname ?? "");
      const st = await lstat(join(root, target)).catch(() => undefined);
      if (target === "" || st === undefined || !st.isFile()) throw new TarEntryRejectedError(h.name, "hard links must point at a file extracted before");
      await assertNoLinkOnPath(root, target, h.name);
      await removeExisting(dest, h.name);
      await link(join(root, target), dest);
      return;
    }
    default:
      body.resume();
      throw new TarEntryRejectedError(h.name, `entries of type ${h.type ?? "unknown"} are not allowed`);
  }
}

async function removeExisting(dest: string, name: string): Promise<void> {
  const st = await lstat(dest).catch(() => undefined);
  if (st === undefined) return;
  if (st.isDirectory()) throw new TarEntryRejectedError(name, "a folder with this name was extracted before");
  await unlink(dest);
}
