import type { Readable, Writable } from "node:stream";
import { streamChunks } from "../stream/stream-chunks.js";
import { GitCommandError } from "./git-errors.js";
import { startGit, type RunningGit } from "./run-git.js";

/** Largest piece handed out at once; bodies are never buffered whole. */
export const BLOB_CHUNK = 64 * 1024;

/**
 * Reads blobs in a given order from one `git cat-file --batch` process,
 * streaming each body in pieces of at most BLOB_CHUNK bytes: memory stays
 * flat whatever the blob sizes. Object ids are written to git's stdin in the
 * background, with backpressure.
 */
export interface BlobReader {
  /** The next blob, which must be the next id given; its body must be consumed before the next call. */
  next(oid: string): Promise<{ size: number; body: AsyncGenerator<Buffer> }>;
  /** Waits for git to end after all ids were read; kills it when stopped early. */
  close(): Promise<void>;
}

/** Starts `git cat-file --batch` in `dir` for the ids, read in this order. */
export function createBlobReader(dir: string, oids: readonly string[], repository: string, signal?: AbortSignal): BlobReader {
  const run: RunningGit = startGit(["cat-file", "--batch"], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", LC_ALL: "C" },
    cwd: dir,
    signal,
    repository,
    operation: "cat-file",
    stdin: "pipe",
  });
  run.done.catch(() => undefined);
  void writeIds(run.child.stdin as Writable, oids);
  const reader = new ChunkReader(run.child.stdout as Readable);
  let served = 0;
  return {
    async next(oid) {
      served++;
      const header = await reader.readLine();
      const m = header === undefined ? null : /^([0-9a-f]{40}) (\w+) (\d+)$/.exec(header);
      if (m === null || m[1] !== oid) {
        if (header === undefined) await run.done;
        else run.kill();
        throw new GitCommandError(repository, "cat-file", `unexpected reply for ${oid}: ${header ?? "end of output"}`);
      }
      const size = Number(m[3]);
      const body = async function* () {
        try {
          yield* reader.readExact(size);
          for await (const _ of reader.readExact(1)) void _;
        } catch (err) {
          await run.done;
          throw err;
        }
      };
      return { size, body: body() };
    },
    async close() {
      if (served < oids.length) {
        run.kill();
        await run.done.catch(() => undefined);
        return;
      }
      await run.done;
    },
  };
}

async function writeIds(stdin: Writable, oids: readonly string[]): Promise<void> {
  stdin.on("error", () => undefined);
  for (const oid of oids) {
    if (!stdin.write(`${oid}\n`)) {
      await new Promise<void>((resolve) => {
        stdin.once("drain", resolve);
        stdin.once("close", resolve);
      });
      if (stdin.destroyed) return;
    }
  }
  stdin.end();
}

/** Pull-based reading of lines and exact byte counts from a stream. */
class ChunkReader {
  readonly #it: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);
  #ended = false;

  constructor(stream: Readable) {
    // Chunk by chunk: the stream's own iterator would join what waits unread into a copy.
    this.#it = streamChunks(stream);
  }

  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const r = await this.#it.next();
    if (r.done === true) {
      this.#ended = true;
      return false;
    }
    this.#buf = this.#buf.length === 0 ? r.value : Buffer.concat([this.#buf, r.value]);
    return true;
  }

  async readLine(): Promise<string | undefined> {
    for (;;) {
      const i = this.#buf.indexOf(10);
      if (i >= 0) {
        const line = this.#buf.subarray(0, i).toString("utf8");
        this.#buf = this.#buf.subarray(i + 1);
        return line;
      }
      if (!(await this.#fill())) return undefined;
    }
  }

  async *readExact(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.#buf.length === 0 && !(await this.#fill())) throw new GitCommandError("object store", "cat-file", "output ended early");
      const take = Math.min(left, this.#buf.length, BLOB_CHUNK);
      const piece = this.#buf.subarray(0, take);
      this.#buf = this.#buf.subarray(take);
      left -= take;
      yield piece;
    }
  }
}
