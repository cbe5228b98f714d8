import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { makeGitRepo } from "./make-git-repo.js";

it("makeGitRepo gives the same commit hashes for the same files on every run", async () => {
  const a = await makeGitRepo({ "app/Containerfile": "FROM local/busybox:1\n", "run.sh": { content: "echo hi\n", mode: 0o755 } });
  const b = await makeGitRepo({ "app/Containerfile": "FROM local/busybox:1\n", "run.sh": { content: "echo hi\n", mode: 0o755 } });
  try {
    assert.equal(a.commit, b.commit);
    assert.match(a.commit, /^[0-9a-f]{40}$/);
    const second = await a.commitFiles({ "README.md": "readme\n", "run.sh": null }, "second");
    assert.notEqual(second, a.commit);
    assert.equal(await a.git("rev-parse", "HEAD~1"), a.commit);
    assert.equal(await a.git("ls-tree", "--name-only", "HEAD"), "README.md\napp");
    assert.equal(await readFile(join(a.path, "app/Containerfile"), "utf8"), "FROM local/busybox:1\n");
  } finally {
    await a.remove();
    await b.remove();
  }
});
