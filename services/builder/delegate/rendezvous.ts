import { createHash } from "node:crypto";

/**
 * Orders `nodes` by rendezvous (highest-random-weight) hashing of `key`: the
 * same key always puts the same node first, and removing a node only moves
 * the keys that ranked it first. Builds of one app thus land on the node
 * whose layer cache is already warm for it.
 */
export function rendezvousOrder<T>(key: string, nodes: readonly T[], nameOf: (node: T) => string): T[] {
  return nodes
    .map((node) => ({ node, weight: weight(key, nameOf(node)) }))
    .sort((a, b) => (a.weight < b.weight ? 1 : a.weight > b.weight ? -1 : 0))
    .map((w) => w.node);
}

function weight(key: string, node: string): bigint {
  const digest = createHash("sha256").update(key).update("\0").update(node).digest();
  return digest.readBigUInt64BE(0);
}
