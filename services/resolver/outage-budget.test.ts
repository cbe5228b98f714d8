import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DomainError } from "../../libs/errors/domain-error.js";
import { CallError } from "./call-error.js";
import { MetadataOutageError } from "./flow-errors.js";
import { createOutageBudget } from "./outage-budget.js";

const limit = { timeout: 30_000 };
const away = () => new CallError("unavailable", "metadata database postgres at db:5432/x is not available: Connection terminated");

describe("metadata outage budget", () => {
  test("retries an unavailable write until the database answers, then returns its result", limit, async () => {
    const budget = createOutageBudget({ budgetMs: 10_000, firstDelayMs: 1, maxDelayMs: 4 });
    let calls = 0;
    const result = await budget.run("storing log lines", async () => {
      if (++calls < 5) throw away();
      return "stored";
    });
    assert.equal(result, "stored");
    assert.equal(calls, 5);
  });

  test("fails with unavailable, naming the budget and the write, once the outage outlasts the budget", limit, async () => {
    let clock = 0;
    const budget = createOutageBudget({ budgetMs: 3000, firstDelayMs: 1, maxDelayMs: 1, now: () => clock });
    let calls = 0;
    await assert.rejects(
      budget.run("writing the final status", async () => {
        calls++;
        clock += 1000;
        throw away();
      }),
      (err: unknown) => {
        assert.ok(err instanceof MetadataOutageError);
        assert.equal(err.code, "unavailable");
        assert.equal(
          err.message,
          "the metadata database was unavailable for more than 3 s ([metadata] outage_budget_secs) while writing the final status: metadata database postgres at db:5432/x is not available: Connection terminated",
        );
        return true;
      },
    );
    assert.equal(calls, 4, "the first failure at 1 s starts the clock; the call at 4 s is past the 3 s budget");
  });

  test("passes any other error through at once, without retrying", limit, async () => {
    const budget = createOutageBudget({ budgetMs: 10_000 });
    let calls = 0;
    await assert.rejects(
      budget.run("storing log lines", async () => {
        calls++;
        throw new CallError("failedPrecondition", "log lines of build b_1 were not stored: token 1 of lease build:k is not current");
      }),
      (err: unknown) => err instanceof CallError && err.code === "failedPrecondition" && err.message.startsWith("log lines of build b_1"),
    );
    assert.equal(calls, 1);
  });

  test("passes an error that is not a domain error through as one, code unknown, without retrying", limit, async () => {
    const budget = createOutageBudget({ budgetMs: 10_000 });
    let calls = 0;
    await assert.rejects(
      budget.run("storing log lines", async () => {
        calls++;
        throw new TypeError("lines is not iterable");
      }),
      (err: unknown) => err instanceof DomainError && err.code === "unknown" && err.message === "lines is not iterable",
    );
    assert.equal(calls, 1);
  });

  test("starts the outage clock afresh after a success", limit, async () => {
    let clock = 0;
    const budget = createOutageBudget({ budgetMs: 3000, firstDelayMs: 1, maxDelayMs: 1, now: () => clock });
    for (let round = 0; round < 3; round++) {
      let calls = 0;
      const r = await budget.run("storing log lines", async () => {
        clock += 1000;
        if (++calls < 3) throw away();
        return calls;
      });
      assert.equal(r, 3, `round ${round} rode out a 2 s outage`);
    }
  });
});
