import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createPositiveCache } from "./positive-cache.js";

describe("positive existence cache", () => {
  test("drops the least recently read answer when full", () => {
    const cache = createPositiveCache<string>(2);
    cache.set("a", "sha256:a");
    cache.set("b", "sha256:b");
    assert.equal(cache.get("a"), "sha256:a", "reading a makes b the oldest");
    cache.set("c", "sha256:c");
    assert.deepEqual([cache.get("a"), cache.get("b"), cache.get("c"), cache.size], ["sha256:a", undefined, "sha256:c", 2]);
  });

  test("uses an answer for its time to live only, then forgets it", () => {
    let now = 1_000;
    const cache = createPositiveCache<string>(10, { ttlMs: 500, now: () => now });
    cache.set("a", "sha256:a");
    now = 1_499;
    assert.equal(cache.get("a"), "sha256:a", "reading does not extend the time to live");
    now = 1_500;
    assert.equal(cache.get("a"), undefined, "an answer as old as the time to live is asked again");
    assert.equal(cache.size, 0);
    cache.set("a", "sha256:a2");
    assert.equal(cache.get("a"), "sha256:a2", "a new answer lives anew");
  });

  test("reads a time to live given as a function when an answer is stored, and stores none at 0", () => {
    let now = 1_000;
    let ttl = 500;
    const cache = createPositiveCache<string>(10, { ttlMs: () => ttl, now: () => now });
    cache.set("a", "sha256:a");
    ttl = 100;
    now = 1_200;
    assert.equal(cache.get("a"), "sha256:a", "an answer keeps the time to live it was stored with");
    cache.set("b", "sha256:b");
    now = 1_300;
    assert.equal(cache.get("b"), undefined, "a later answer gets the new time to live");
    ttl = 0;
    cache.set("c", "sha256:c");
    assert.deepEqual([cache.get("c"), cache.size], [undefined, 1], "at 0 nothing new is stored");
  });

  test("forgets a deleted key, and every key on clear", () => {
    const cache = createPositiveCache<string>(10);
    cache.set("a", "sha256:a");
    cache.set("b", "sha256:b");
    cache.delete("a");
    assert.deepEqual([cache.get("a"), cache.get("b")], [undefined, "sha256:b"]);
    cache.clear();
    assert.deepEqual([cache.get("b"), cache.size], [undefined, 0]);
  });
});
