import { Readable, finished } from "node:stream";

/** How many bytes a batch holds before the source is paused until it has been handed on. */
export const BATCH_BYTES = 1024 * 1024;

/**
 * `source`'s pieces, unchanged and uncopied, handed on in batches: the
 * pieces that arrive within one turn of the event loop are pushed together
 * at its end (`setImmediate`). Piped into an HTTP request, a batch goes out
 * in one `writev` — Node's request corks its socket for the rest of a tick,
 * up to the socket's high-water mark — where each piece would otherwise be a
 * system call of its own and a wake-up of the engine reading it. That
 * matters on a builder node, whose pieces are the 16 KiB slices of HTTP/2
 * data frames, several of them per socket read.
 *
 * The source is paused while a batch holds `maxBytes` or the returned
 * stream's buffer is full. Destroying either stream destroys the other.
 */
export function inBatches(source: Readable, maxBytes = BATCH_BYTES): Readable {
  // A byte stream (no encoding set): its pieces are Buffers.
  let batch: Buffer[] = [];
  let bytes = 0;
  let scheduled: NodeJS.Immediate | undefined;
  let ended = false;

  const handOn = () => {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    const pieces = batch;
    batch = [];
    bytes = 0;
    let room = true;
    for (const piece of pieces) room = out.push(piece);
    if (ended) out.push(null);
    else if (room) source.resume();
    else source.pause();
  };

  const out = new Readable({
    read() {
      if (!ended && bytes < maxBytes) source.resume();
    },
    destroy(err, callback) {
      if (scheduled !== undefined) clearImmediate(scheduled);
      batch = [];
      source.destroy(err ?? undefined);
      callback(err);
    },
  });

  source.pause();
  source.on("data", (piece: Buffer) => {
    batch.push(piece);
    bytes += piece.length;
    scheduled ??= setImmediate(handOn);
    if (bytes >= maxBytes) source.pause();
  });
  finished(source, (err) => {
    if (err) {
      out.destroy(err);
      return;
    }
    ended = true;
    handOn();
  });
  return out;
}
