import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { useSqliteMetadataHarness } from "../../test/metadata/metadata-client.js";
import { holderIdentity } from "./holder-identity.js";
import { releaseLease } from "./lease-release.js";
import { createMetadataPort } from "./metadata-port.js";
import { takeLease, type TakeLeaseDeps } from "./lease-take.js";
import { createOutageBudget } from "./outage-budget.js";

const limit = { timeout: 60_000 };

/**
 * Taking and giving back a build lease, against the metadata service over
 * a real SQLite database (in memory through `createRouterTransport`).
 */
describe("build lease take and release", () => {
  const h = useSqliteMetadataHarness();

  const deps = (self = holderIdentity("host-a", process.pid, "self0001"), isAlive?: (pid: number) => boolean): TakeLeaseDeps => ({
    leases: createMetadataPort(h.client),
    budget: createOutageBudget({ budgetMs: 5_000 }),
    self,
    ttlMs: 60_000,
    ...(isAlive ? { isAlive } : {}),
  });

  test("takes a free lease with a fencing token and the time it was asked", limit, async () => {
    const before = Date.now();
    const took = await takeLease(deps(), "build:free");
    assert.equal(took.taken, true);
    if (!took.taken) return;
    assert.equal(took.replaced, undefined);
    assert.equal(took.lease.key, "build:free");
    assert.equal(took.lease.holder, `host-a/${process.pid}/self0001`);
    assert.ok(took.lease.token > 0n);
    assert.ok(took.lease.acquiredAt >= before && took.lease.acquiredAt <= Date.now());
  });

  test("leaves a lease to another live holder and names it", limit, async () => {
    const other = holderIdentity("host-b", 777, "other001");
    assert.equal((await takeLease(deps(other), "build:held")).taken, true);
    const took = await takeLease(deps(), "build:held");
    assert.deepEqual(took, { taken: false, holder: other.text });
  });

  test("takes the lease at once from a holder on this host whose process is gone", limit, async () => {
    const dead = holderIdentity("host-a", 999_999, "dead0001");
    const first = await takeLease(deps(dead), "build:dead");
    assert.ok(first.taken);
    const took = await takeLease(deps(undefined, (pid) => pid !== 999_999), "build:dead");
    assert.equal(took.taken, true);
    if (!took.taken) return;
    assert.equal(took.replaced, dead.text);
    assert.ok(took.lease.token > first.lease.token, "a new fencing token fences the dead holder's writes");
  });

  test("gives the lease back so the next caller takes it without waiting for it to expire", limit, async () => {
    const took = await takeLease(deps(), "build:release");
    assert.ok(took.taken);
    const next = holderIdentity("host-b", 778, "next0001");
    assert.equal((await takeLease(deps(next), "build:release")).taken, false);
    await releaseLease(createMetadataPort(h.client), createOutageBudget({ budgetMs: 5_000 }), took.lease);
    assert.equal((await takeLease(deps(next), "build:release")).taken, true);
  });

  test("releasing a lease another holder took meanwhile changes nothing and does not throw", limit, async () => {
    const dead = holderIdentity("host-a", 999_998, "dead0002");
    const first = await takeLease(deps(dead), "build:stolen");
    assert.ok(first.taken);
    const took = await takeLease(deps(undefined, () => false), "build:stolen");
    assert.ok(took.taken);
    await releaseLease(createMetadataPort(h.client), createOutageBudget({ budgetMs: 5_000 }), first.lease);
    const third = await takeLease(deps(holderIdentity("host-c", 779, "third001")), "build:stolen");
    assert.deepEqual(third, { taken: false, holder: took.lease.holder });
  });
});
