import { finished, type Readable } from "node:stream";
import { createAsyncQueue } from "./async-queue.js";

/** What `streamChunks` lets wait unread before it pauses the stream (1 MiB). */
export const defaultQueuedBytes = 1024 * 1024;

/**
 * The chunks of a byte stream, each as the stream was given it.
 *
 * A byte stream's own async iterator reads everything it holds at once, so
 * when more than one chunk waits (an HTTP/2 request body gets its data in
 * 16 KiB frames, several per socket read) it joins them into a fresh buffer:
 * a copy of the bytes and one more buffer outside V8's heap, whose growth
 * makes V8 run a major garbage collection every few tens of MiB. Here each
 * chunk is yielded as it came, uncopied. The stream is read in flowing mode
 * and paused while `maxQueuedBytes` wait unread, so backpressure reaches the
 * sender as before. Ends when the stream ends; throws its error, or the
 * premature-close error when it closes before its end. A consumer leaving
 * early destroys the stream, as the stream's own iterator does.
 */
export async function* streamChunks(stream: Readable, maxQueuedBytes: number = defaultQueuedBytes): AsyncGenerator<Buffer, void, undefined> {
  const queue = createAsyncQueue<Buffer>();
  let queued = 0;
  let ended = false;
  // Paused by this reader (not every stream implementation has `isPaused`).
  let paused = false;
  const onData = (chunk: Buffer): void => {
    queue.push(chunk);
    queued += chunk.byteLength;
    if (queued >= maxQueuedBytes && !paused) {
      paused = true;
      stream.pause();
    }
  };
  const stopWatching = finished(stream, (err) => {
    if (err) {
      queue.fail(err);
    } else {
      ended = true;
      queue.close();
    }
  });
  stream.on("data", onData);
  try {
    for await (const chunk of queue) {
      queued -= chunk.byteLength;
      if (paused && queued < maxQueuedBytes) {
        paused = false;
        stream.resume();
      }
      yield chunk;
    }
  } finally {
    stream.off("data", onData);
    stopWatching();
    if (!ended) stream.destroy();
  }
}
