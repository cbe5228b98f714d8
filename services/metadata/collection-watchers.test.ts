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

  test("going down ends every watch with unavailable and refuses new ones until live again", async () => {
    const watchers = createCollectionWatchers({ live: false });
    const refused = (why: string) => (err: unknown) => {
      assert.ok(err instanceof DomainError);
      assert.equal(err.code, "unavailable");
      assert.equal(err.message, `collected images cannot be watched: ${why}`);
      return true;
    };
    await assert.rejects(watchers.watch(new AbortController().signal).next(), refused("the collection feed has not read the database yet"));
    watchers.setLive(true);
    const it = watchers.watch(new AbortController().signal);
    await it.next();
    watchers.publish(["r/a:1"]);
    watchers.setLive(false, "the database is away");
    await assert.rejects(it.next(), refused("the database is away"), "a pending batch is not handed on once the watch cannot be kept up to date");
    await assert.rejects(watchers.watch(new AbortController().signal).next(), refused("the database is away"));
  });
});
