import { Transform, type Readable } from "node:stream";
import { DomainError } from "../errors/domain-error.js";
import { ArchiveCanceledError, ArchiveMalformedError } from "./archive-errors.js";
import { resolveArchiveLimits, type ArchiveLimits } from "./archive-limits.js";
import { createArchiveTree } from "./archive-tree.js";
import { createTarParser } from "./tar-parser.js";
import { createTarRewriter } from "./tar-rewriter.js";

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
  const writer = createTarRewriter((piece) => out.push(piece));
  const out: Transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        for (const event of parser.push(chunk)) {
          switch (event.kind) {
            case "entry":
              writer.entry(tree.admit(event.entry));
              break;
            case "data":
              writer.body(event.bytes);
              break;
            case "entryEnd":
              writer.entryEnd();
              break;
            case "end":
              writer.end();
              break;
          }
        }
      } catch (err) {
        done(asDomainError(err));
        return;
      }
      writer.flush();
      done();
    },
    flush(done) {
      try {
        parser.end();
        writer.end();
        writer.flush();
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
