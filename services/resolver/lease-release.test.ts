import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DomainError } from "../../libs/errors/domain-error.js";
import { releaseLease } from "./lease-release.js";
import { createOutageBudget } from "./outage-budget.js";
import type { LeasePort } from "./ports.js";

const lease = { key: "build:k", holder: "host/1/abcd0001", token: 7n, acquiredAt: Date.now() };

/** A lease port whose release fails `unavailable` (the database is away) until `back` is set. */
function awayPort(): { port: LeasePort; attempts: () => number; back(): void } {
  let attempts = 0;
  let away = true;
  const port: LeasePort = {
    acquire: () => Promise.reject(new Error("not used")),
    renew: () => Promise.reject(new Error("not used")),
    release: async (req) => {
      attempts++;
      assert.deepEqual(req, { key: "build:k", holder: "host/1/abcd0001", token: 7n }, "the release is fenced by the holder and token");
      if (away) throw new DomainError("unavailable", "metadata database postgres at db:5432/bp is not available: connection refused");
    },
  };
  return { port, attempts: () => attempts, back: () => (away = false) };
}

describe("lease release", () => {
  test("keeps offering the release while the database is away, and gives the lease back once it returns", { timeout: 20_000 }, async () => {
    const away = awayPort();
    const done = releaseLease(away.port, createOutageBudget({ budgetMs: 200, firstDelayMs: 10 }), lease, 60_000);
    while (away.attempts() < 4) await new Promise((r) => setTimeout(r, 20));
    away.back();
    await done;
    const attempts = away.attempts();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(away.attempts(), attempts, "no attempt once released");
  });

  test("stops waiting for the database once the server shuts down, after one last attempt", { timeout: 20_000 }, async () => {
    const away = awayPort();
    const stopping = new AbortController();
    // A lease with a minute to live and a minute of outage budget: without the stop this waits a minute.
    const done = releaseLease(away.port, createOutageBudget({ budgetMs: 60_000, firstDelayMs: 10 }), lease, 60_000, stopping.signal);
    while (away.attempts() < 2) await new Promise((r) => setTimeout(r, 5));
    const before = away.attempts();
    stopping.abort(new Error("server shutting down"));
    await done;
    assert.ok(away.attempts() - before <= 1, `at most one attempt after the stop, saw ${away.attempts() - before}`);
  });

  test("does not wait at all when the server is already stopping", { timeout: 20_000 }, async () => {
    const away = awayPort();
    const stopping = new AbortController();
    stopping.abort(new Error("server shutting down"));
    await releaseLease(away.port, createOutageBudget({ budgetMs: 60_000 }), lease, 60_000, stopping.signal);
    assert.equal(away.attempts(), 1);
  });
});
