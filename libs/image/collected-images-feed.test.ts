import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { followCollectedImages } from "./collected-images-feed.js";

/** A WatchCollected stand-in the test drives: each `open` is one stream. */
function streams() {
  const opened: { push(images: string[]): void; fail(err: Error): void }[] = [];
  const waiting: ((n: number) => void)[] = [];
  return {
    opened,
    /** Resolves once `n` streams were opened. */
    until: (n: number) => new Promise<void>((resolve) => (opened.length >= n ? resolve() : waiting.push((m) => m >= n && resolve()))),
    async *watch(signal: AbortSignal): AsyncGenerator<{ images: readonly string[] }> {
      const queue: (string[] | Error)[] = [];
      let wake = (): void => {};
      opened.push({ push: (images) => (queue.push(images), wake()), fail: (err) => (queue.push(err), wake()) });
      for (const w of waiting) w(opened.length);
      signal.addEventListener("abort", () => wake());
      for (;;) {
        while (queue.length === 0 && !signal.aborted) await new Promise<void>((r) => (wake = r));
        if (signal.aborted) return;
        const next = queue.shift();
        if (next instanceof Error) throw next;
        if (next) yield { images: next };
      }
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("following collected images", () => {
  test("is live after the first batch, hands on collected images, and takes a new epoch after the stream fails", async () => {
    const s = streams();
    const stop = new AbortController();
    const heard: string[][] = [];
    const changes: [boolean, string][] = [];
    const feed = followCollectedImages({
      watch: (signal) => s.watch(signal),
      collected: (refs) => heard.push([...refs]),
      signal: stop.signal,
      retryMs: 1,
      maxRetryMs: 2,
      onChange: (live, reason) => changes.push([live, reason]),
    });
    await s.until(1);
    assert.equal(feed.epoch(), undefined, "not live before the stream's first batch");
    s.opened[0]?.push([]);
    await settle();
    const first = feed.epoch();
    assert.equal(typeof first, "number");
    s.opened[0]?.push(["r/a:1"]);
    await settle();
    assert.deepEqual(heard, [["r/a:1"]]);

    s.opened[0]?.fail(new Error("collected images cannot be watched: the database is away"));
    await settle();
    assert.equal(feed.epoch(), undefined, "nothing cached is trusted while the watch is down");
    await s.until(2);
    s.opened[1]?.push([]);
    await settle();
    const second = feed.epoch();
    assert.notEqual(second, undefined);
    assert.notEqual(second, first, "answers cached before the failure belong to an older epoch");
    assert.deepEqual(changes, [
      [true, ""],
      [false, "collected images cannot be watched: the database is away"],
      [true, ""],
    ]);
    stop.abort();
    await settle();
    assert.equal(feed.epoch(), undefined);
  });

  test("watches again with backoff while opening the stream fails, until stopped", async () => {
    let attempts = 0;
    const stop = new AbortController();
    const feed = followCollectedImages({
      watch: () => {
        attempts++;
        if (attempts === 3) stop.abort();
        throw new Error("metadata unreachable");
      },
      collected: () => assert.fail("nothing was collected"),
      signal: stop.signal,
      retryMs: 1,
      maxRetryMs: 4,
    });
    while (!stop.signal.aborted) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(attempts, 3, "no attempt after the stop");
    assert.equal(feed.epoch(), undefined);
  });
});
