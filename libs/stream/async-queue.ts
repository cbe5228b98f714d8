/**
 * A push-based async iterable: producers call `push` from callbacks, one
 * consumer iterates with `for await`. It bridges callback-style progress
 * (engine logs, pod logs) to the server-streaming handlers that yield events.
 */
export interface AsyncQueue<T> extends AsyncIterable<T> {
  push(value: T): void;
  /** Ends the iteration after the values already pushed. */
  close(): void;
  /** Ends the iteration with an error after the values already pushed. */
  fail(err: unknown): void;
}

/** Creates an unbounded single-consumer queue. */
export function createAsyncQueue<T>(): AsyncQueue<T> {
  const items: T[] = [];
  let done = false;
  let error: { err: unknown } | undefined;
  let wake: (() => void) | undefined;

  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  return {
    push(value) {
      if (done) return;
      items.push(value);
      notify();
    },
    close() {
      done = true;
      notify();
    },
    fail(err) {
      if (done) return;
      error = { err };
      done = true;
      notify();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = items.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (done) {
          if (error) throw error.err;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}
