import type { ImageEvent } from "./domain.js";
import { createAsyncQueue, type AsyncQueue } from "../../libs/stream/async-queue.js";

/**
 * One running build shared by every caller that asked for the same image
 * key: events are kept so a late caller gets them all from the start, and
 * the build is aborted only when its last caller goes away.
 */
export interface BuildFlight {
  /** Follows the build from its first event; ends when the build does. */
  attach(signal: AbortSignal): AsyncIterable<ImageEvent>;
  emit(event: ImageEvent): void;
  /** Ends every attached stream, with an error after the events when given. */
  finish(err?: unknown): void;
  /** Stops the build with `reason` whoever follows it (the server shuts down). */
  cancel(reason: Error): void;
  /** Aborted when no caller is left, or on `cancel`. */
  readonly signal: AbortSignal;
  readonly finished: boolean;
}

/** Creates a flight with no caller attached yet. */
export function createBuildFlight(): BuildFlight {
  const history: ImageEvent[] = [];
  const followers = new Set<AsyncQueue<ImageEvent>>();
  const stop = new AbortController();
  let finished: { err: unknown } | undefined;

  return {
    get signal() {
      return stop.signal;
    },
    get finished() {
      return finished !== undefined;
    },
    cancel(reason) {
      if (!finished) stop.abort(reason);
    },
    emit(event) {
      if (finished) return;
      history.push(event);
      for (const q of followers) q.push(event);
    },
    finish(err) {
      if (finished) return;
      finished = { err };
      for (const q of followers) {
        if (err === undefined) q.close();
        else q.fail(err);
      }
      followers.clear();
    },
    attach(signal) {
      const q = createAsyncQueue<ImageEvent>();
      for (const e of history) q.push(e);
      if (finished) {
        if (finished.err === undefined) q.close();
        else q.fail(finished.err);
        return q;
      }
      followers.add(q);
      const leave = (): void => {
        if (!followers.delete(q)) return;
        q.close();
        if (followers.size === 0 && !finished) stop.abort(signal.reason);
      };
      if (signal.aborted) leave();
      else signal.addEventListener("abort", leave, { once: true });
      return q;
    },
  };
}
