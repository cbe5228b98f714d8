import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DomainError } from "../../libs/errors/domain-error.js";
import { createCollectionWatchers } from "./collection-watchers.js";

describe("collection watchers", () => {
  test("every watcher gets each published batch after its live marker, and an abort ends its watch", async () => {
    const watchers = createCollectionWatchers();
    const stops = [new AbortController(), new AbortController()];
    const its = stops.map((s) => watchers.watch(s.signal));
    for (const it of its) assert.deepEqual((await it.next()).value, [], "the live marker");
    watchers.publish([]);
    watchers.publish(["r/a:1", "r/a:2"]);
    watchers.publish(["r/b:1"]);
    for (const it of its) {
      assert.deepEqual((await it.next()).value, ["r/a:1", "r/a:2"], "an empty batch is not handed on");
      assert.deepEqual((await it.next()).value, ["r/b:1"]);
    }
    stops[0]?.abort();
    assert.equal((await its[0]?.next())?.done, true);
    watchers.publish(["r/c:1"]);
    assert.deepEqual((await its[1]?.next())?.value, ["r/c:1"], "the other watch goes on");
  });

  test("a watcher more than 1000 batches behind is ended with resource_exhausted", async () => {
    const watchers = createCollectionWatchers();
    const it = watchers.watch(new AbortController().signal);
    await it.next();
    for (let i = 0; i <= 1000; i++) watchers.publish([`r/a:${i}`]);
    await assert.rejects(it.next(), (err: unknown) => {
      assert.ok(err instanceof DomainError);
      assert.equal(err.code, "resourceExhausted");
      assert.equal(err.message, "collected-images watcher fell more than 1000 batches behind: watch again");
      return true;
    });
  });

  test("going down ends every watch with unavailable; a watch opened while down is live once the feed is", async () => {
    const watchers = createCollectionWatchers({ live: false });
    const pending = (it: AsyncGenerator<readonly string[]>) => Promise.race([it.next().then((r) => r.value), new Promise((r) => setTimeout(() => r("still waiting"), 50))]);
    const early = watchers.watch(new AbortController().signal);
    const first = early.next();
    assert.equal(await Promise.race([first.then(() => "live"), new Promise((r) => setTimeout(() => r("still waiting"), 50))]), "still waiting", "no live marker before the feed read the database");
    watchers.setLive(true);
    assert.deepEqual((await first).value, []);
    watchers.publish(["r/a:1"]);
    watchers.setLive(false, "the database is away");
    await assert.rejects(early.next(), (err: unknown) => {
      assert.ok(err instanceof DomainError);
      assert.equal(err.code, "unavailable");
      assert.equal(err.message, "collected images cannot be watched: the database is away");
      return true;
    }, "a pending batch is not handed on once the watch cannot be kept up to date");
    const stop = new AbortController();
    const late = watchers.watch(stop.signal);
    assert.equal(await pending(late), "still waiting");
    stop.abort();
    assert.equal((await late.next()).done, true, "an abort ends a watch still waiting for the feed");
    const again = watchers.watch(new AbortController().signal);
    const marker = again.next();
    watchers.setLive(true);
    assert.deepEqual((await marker).value, []);
    watchers.publish(["r/b:1"]);
    assert.deepEqual((await again.next()).value, ["r/b:1"]);
  });
});
