import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { acquireFileLock, withFileLock } from "./file-lock.js";
import { createReaderMarks } from "./reader-marks.js";

const limit = { timeout: 30_000 };

describe("file lock", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "buildplane-lock-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("gives a second holder unavailable, naming the lock, when the first keeps it past the wait bound", limit, async () => {
    const path = join(dir, "busy");
    const held = await acquireFileLock({ name: "mirror abc", path, waitMs: 0 });
    try {
      await assert.rejects(acquireFileLock({ name: "mirror abc", path, waitMs: 200 }), {
        code: "unavailable",
        message: "lock on mirror abc is held by another process: waited 0s, expected it to be released sooner; retry later",
      });
    } finally {
      await held.release();
    }
  });

  test("hands the lock to a waiting holder as soon as the first releases it", limit, async () => {
    const path = join(dir, "handover");
    const order: string[] = [];
    const first = await acquireFileLock({ name: "handover", path, waitMs: 0 });
    const second = withFileLock({ name: "handover", path, waitMs: 20_000 }, async () => void order.push("second"));
    order.push("first released");
    await first.release();
    await second;
    assert.deepEqual(order, ["first released", "second"]);
  });

  test("stops waiting with canceled when the caller's signal aborts", limit, async () => {
    const path = join(dir, "cancel");
    const held = await acquireFileLock({ name: "mirror def", path, waitMs: 0 });
    try {
      const ac = new AbortController();
      const waiting = acquireFileLock({ name: "mirror def", path, waitMs: 20_000, signal: ac.signal });
      ac.abort();
      await assert.rejects(waiting, { code: "canceled", message: "waiting for the lock on mirror def was cancelled" });
    } finally {
      await held.release();
    }
  });

  test("releases the lock when the work under it fails", limit, async () => {
    const path = join(dir, "failing");
    await assert.rejects(withFileLock({ name: "failing", path, waitMs: 0 }, async () => {
      throw new Error("work failed");
    }), { message: "work failed" });
    const again = await acquireFileLock({ name: "failing", path, waitMs: 0 });
    await again.release();
  });
});

describe("reader marks", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "buildplane-marks-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("counts a live reader until it unmarks, and drops the mark of a dead process", limit, async () => {
    const marks = createReaderMarks(dir, 10_000);
    const mine = await marks.mark("k");
    assert.equal(await marks.live("k"), 1);
    await marks.unmark(mine);
    assert.equal(await marks.live("k"), 0);
    // A pid above the kernel's limit is never alive.
    await writeFile(join(dir, "k", `${hostname().replace(/[@/]/g, "_") || "localhost"}@99999999@0123456789ab`), "");
    assert.equal(await marks.live("k"), 0, "a dead process's mark does not count");
  });
});
