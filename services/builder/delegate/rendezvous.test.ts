import assert from "node:assert/strict";
import { test } from "node:test";
import { rendezvousOrder } from "./rendezvous.js";

const nodes = ["http://a:25222", "http://b:25222", "http://c:25222", "http://d:25222"];
const id = (n: string): string => n;

test("the same key always ranks the same node first", () => {
  for (const key of ["app-1", "app-2", "shop"]) {
    assert.deepEqual(rendezvousOrder(key, nodes, id), rendezvousOrder(key, [...nodes].reverse(), id));
  }
});

test("removing a node moves only the keys that ranked it first", () => {
  const keys = Array.from({ length: 200 }, (_, i) => `app-${i}`);
  const removed = "http://b:25222";
  const rest = nodes.filter((n) => n !== removed);
  for (const key of keys) {
    const before = rendezvousOrder(key, nodes, id)[0];
    const after = rendezvousOrder(key, rest, id)[0];
    if (before !== removed) assert.equal(after, before);
  }
});

test("keys spread over every node", () => {
  const firsts = new Set(Array.from({ length: 200 }, (_, i) => rendezvousOrder(`app-${i}`, nodes, id)[0]));
  assert.equal(firsts.size, nodes.length);
});
