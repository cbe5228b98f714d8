import { constants } from "node:fs";
import { chmod, link, lstat, mkdir, open, readdir, realpath, rm, symlink, type FileHandle } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import { DomainError } from "../errors/domain-error.js";
import { ArchiveCanceledError, ArchiveEntryError, ArchiveMalformedError } from "./archive-errors.js";
import { resolveArchiveLimits, type ArchiveLimits } from "./archive-limits.js";
import { createArchiveTree, type ConfinedEntry } from "./archive-tree.js";
import { createTarParser } from "./tar-parser.js";

/** What an extraction wrote. */
export interface ExtractResult {
  readonly entries: number;
  readonly bytes: number;
}

/**
 * Unpacks an untrusted tar into `dir` (created; it must not exist or be
 * empty) under the same rules and limits as `confineArchive`: each entry is
 * checked before anything of it is written. On disk it adds its own guards:
 * folders are made one level at a time and checked with `lstat`, files are
 * created exclusively without following links (`O_EXCL`, `O_NOFOLLOW`). Modes
 * keep permission bits only (folders stay writable by the owner). On a
 * refusal, a malformed archive, an error or `signal` aborting, `dir` is
 * removed and the error is a `DomainError`.
 */
export async function extractConfined(input: Readable, dir: string, limits: Partial<ArchiveLimits> = {}, signal?: AbortSignal): Promise<ExtractResult> {
  const resolved = resolveArchiveLimits(limits);
  const parser = createTarParser(resolved);
  const tree = createArchiveTree(resolved);
  const onAbort = (): void => void input.destroy(new ArchiveCanceledError());
  signal?.addEventListener("abort", onAbort, { once: true });
  let file: FileHandle | undefined;
  let current: ConfinedEntry | undefined;
  let owned = false;
  try {
    if (signal?.aborted) throw new ArchiveCanceledError();
    await mkdir(dir, { recursive: true });
    if ((await readdir(dir)).length > 0) throw new DomainError("failedPrecondition", `extraction folder ${JSON.stringify(dir)} is not empty: expected a new or empty folder`);
    owned = true;
    const root = await realpath(dir);
    /** Folders known to be real folders inside `root`, by relative path. */
    const folders = new Set<string>([""]);
    // Each folder is created or checked one level at a time with lstat, so no
    // symlink is ever followed, whatever the archive rules let through.
    const ensureFolder = async (rel: string, entry: string): Promise<void> => {
      if (folders.has(rel)) return;
      const parent = posix.dirname(rel);
      await ensureFolder(parent === "." ? "" : parent, entry);
      const abs = join(root, rel);
      const st = await lstat(abs).catch(() => undefined);
      if (st === undefined) await mkdir(abs, { mode: 0o755 });
      else if (!st.isDirectory()) throw new ArchiveEntryError(entry, `path goes through ${JSON.stringify(rel)}, which is not a folder on disk`);
      folders.add(rel);
    };
    const place = async (entry: ConfinedEntry): Promise<string> => {
      const parent = posix.dirname(entry.path);
      await ensureFolder(parent === "." ? "" : parent, entry.path);
      return join(root, entry.path);
    };
    let ended = false;
    const handle = async (events: ReturnType<typeof parser.push>): Promise<void> => {
      for (const event of events) {
        if (event.kind === "end") ended = true;
        if (event.kind === "entry") {
          current = tree.admit(event.entry);
          if (current === undefined) continue;
          const dest = await place(current);
          switch (current.type) {
            case "directory":
              await ensureFolder(current.path, current.path);
              await chmod(dest, current.mode | 0o700);
              break;
            case "file":
              file = await open(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, current.mode | 0o600);
              break;
            case "symlink":
              await symlink(current.target, dest);
              break;
            case "link":
              await link(join(root, current.target), dest);
              break;
          }
        } else if (event.kind === "data") {
          for (let done = 0; file !== undefined && done < event.bytes.length; ) done += (await file.write(event.bytes, done)).bytesWritten;
        } else if (event.kind === "entryEnd") {
          if (file !== undefined && current?.type === "file") {
            await file.chmod(current.mode | 0o600);
            await file.close();
          }
          file = undefined;
        }
      }
    };
    for await (const chunk of input as AsyncIterable<Buffer>) {
      await handle(parser.push(chunk));
      // Whatever follows the end-of-archive marker is not read.
      if (ended) break;
    }
    if (!ended) await handle(parser.end());
    if (signal?.aborted) throw new ArchiveCanceledError();
    return { ...tree.totals };
  } catch (err) {
    input.destroy();
    await file?.close().catch(() => undefined);
    if (owned) await rm(dir, { recursive: true, force: true });
    if (signal?.aborted) throw new ArchiveCanceledError();
    if (err instanceof DomainError) throw err;
    // A file system call failing is our side; anything else came with the input stream.
    if (err instanceof Error && "syscall" in err) throw new DomainError("internal", `extracting the archive into ${JSON.stringify(dir)} failed: ${err.message}`, { cause: err });
    throw new ArchiveMalformedError(err instanceof Error ? err.message : String(err));
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
