import { Transform, type Readable } from "node:stream";
import { DomainError } from "../errors/domain-error.js";
import { ArchiveCanceledError, ArchiveMalformedError } from "./archive-errors.js";
import { resolveArchiveLimits, type ArchiveLimits } from "./archive-limits.js";
import { createArchiveTree } from "./archive-tree.js";
import { createTarParser } from "./tar-parser.js";
import { createSmallPieceJoiner, SMALL_PIECE_BYTES } from "./small-pieces.js";
import { bodyPadding, encodeEntryHeader, END_OF_ARCHIVE } from "./tar-writer.js";

/**
 * Creates a transform from an untrusted tar to a confined one. Every entry
 * is checked by the rules of `createArchiveTree` and written again from an
 * allow-list of fields (normalised name, permission bits, size, type, link
 * target, mtime; owner 0:0), so no PAX or GNU record of the input reaches
 * the reader. File bodies pass through as they arrive: nothing is buffered
 * beyond one header block and one extension record. The first refusal
 * errors the transform with a `DomainError` naming the entry and the rule.
 */
export function createArchiveConfiner(limits: Partial<ArchiveLimits> = {}): Transform {
  const resolved = resolveArchiveLimits(limits);
  const parser = createTarParser(resolved);
  const tree = createArchiveTree(resolved);
  let passing = false;
  let size = 0;
  let ended = false;
  // Headers, small bodies and padding are joined into one piece: a stream
  // write each would cost more than copying them. Large bodies pass as they are.
  const { emit, flush: flushSmall } = createSmallPieceJoiner((piece) => out.push(piece), SMALL_PIECE_BYTES);
  const out: Transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        for (const event of parser.push(chunk)) {
          switch (event.kind) {
            case "entry": {
              const entry = tree.admit(event.entry);
              passing = entry?.type === "file";
              size = entry?.type === "file" ? entry.size : 0;
              if (entry !== undefined) emit(encodeEntryHeader(entry));
              break;
            }
            case "data":
              if (passing) emit(event.bytes);
              break;
            case "entryEnd":
              if (passing && size % 512 !== 0) emit(bodyPadding(size));
              passing = false;
              break;
            case "end":
              if (!ended) emit(END_OF_ARCHIVE);
              ended = true;
              break;
          }
        }
      } catch (err) {
        done(asDomainError(err));
        return;
      }
      flushSmall();
      done();
    },
    flush(done) {
      try {
        parser.end();
        if (!ended) this.push(END_OF_ARCHIVE);
        ended = true;
        done();
      } catch (err) {
        done(asDomainError(err));
      }
    },
  });
  return out;
}

/**
 * Confines `input` (a tar byte stream) and returns the confined tar: the
 * drop-in for the builder's former `guardTar`. A refusal destroys the
 * output with a `DomainError`, an error of the input with that error, and
 * `signal` aborting with `ArchiveCanceledError`; a reader that destroys the
 * output early also destroys the input.
 */
export function confineArchive(input: Readable, limits: Partial<ArchiveLimits> = {}, signal?: AbortSignal): Readable {
  const confiner = createArchiveConfiner(limits);
  const onAbort = (): void => void confiner.destroy(new ArchiveCanceledError());
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  input.on("error", (err) => confiner.destroy(err));
  confiner.once("close", () => {
    signal?.removeEventListener("abort", onAbort);
    if (!input.destroyed && !input.readableEnded) input.destroy();
  });
  input.pipe(confiner);
  return confiner;
}

/** A refusal as it is, anything else as a malformed archive. */
function asDomainError(err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  return new ArchiveMalformedError(err instanceof Error ? err.message : String(err));
}
