import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, describe, it } from "node:test";
import { makeOwnedTempDir, removeOwnedTempDir, sweepOwnedTemp, UnsafeTempRootError } from "./owned-temp.js";

const base = mkdtempSync(join(tmpdir(), "owned-temp-test-"));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const freshRoot = (): string => join(base, `root-${n++}`);
const host = hostname().replace(/[@/]/g, "_");

describe("owned temp folders", () => {
  it("are made 0700 in a 0700 root, named after their kind, host and process", async () => {
    const root = freshRoot();
    const dir = await makeOwnedTempDir(root, "git");
    assert.match(basename(dir), new RegExp(`^git@${host.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}@${process.pid}@[A-Za-z0-9]{6}$`));
    assert.equal(statSync(root).mode & 0o777, 0o700);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    await removeOwnedTempDir(dir, root);
    assert.equal(existsSync(root), false, "the emptied root is removed too");
  });

  it("refuses a root that is a symbolic link with failedPrecondition naming it, and closes a root of this user open to others", async () => {
    const target = freshRoot();
    mkdirSync(target, { mode: 0o700 });
    const link = freshRoot();
    symlinkSync(target, link);
    await assert.rejects(makeOwnedTempDir(link, "git"), (err: unknown) => {
      assert.ok(err instanceof UnsafeTempRootError);
      assert.equal(err.code, "failedPrecondition");
      assert.equal(err.message, `temp folder "${link}" is not safe: it is a symbolic link: expected a folder owned by this user with mode 0700`);
      return true;
    });
    const open = freshRoot();
    mkdirSync(open);
    chmodSync(open, 0o777);
    const dir = await makeOwnedTempDir(open, "push");
    assert.equal(statSync(open).mode & 0o777, 0o700);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });

  it("are swept when their process is dead, and kept when it lives, runs on another host or is not named by buildplane", async () => {
    const root = freshRoot();
    mkdirSync(root, { mode: 0o700 });
    const names = {
      dead: `git@${host}@4000001@aaaaaa`,
      alive: `push@${host}@4000002@bbbbbb`,
      mine: `git@${host}@${process.pid}@cccccc`,
      otherHost: `git@other-host.example@4000001@dddddd`,
      foreign: "notes",
    };
    for (const name of Object.values(names)) mkdirSync(join(root, name));
    const removed = await sweepOwnedTemp([root, join(base, "missing")], { isAlive: (pid) => pid === 4000002 });
    assert.deepEqual(removed, [join(root, names.dead)]);
    assert.deepEqual(
      Object.entries(names).filter(([, name]) => existsSync(join(root, name))).map(([k]) => k),
      ["alive", "mine", "otherHost", "foreign"],
    );
  });
});
