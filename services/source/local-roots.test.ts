import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { createLocalRootsPolicy } from "./local-roots.js";

const base = mkdtempSync(join(tmpdir(), "bp-local-roots-"));
after(() => rmSync(base, { recursive: true, force: true }));
const root = join(base, "root");
const outside = join(base, "outside");
for (const d of [join(root, "app"), join(root, "repo/.git"), join(root, "bare/objects/info"), join(outside, "objects"), join(outside, "repo")]) mkdirSync(d, { recursive: true });
writeFileSync(join(root, "bare/HEAD"), "ref: refs/heads/main\n");
symlinkSync(outside, join(root, "link-out"));
symlinkSync(join(root, "app"), join(root, "link-in"));
mkdirSync(join(root, "dotgit-link"));
symlinkSync(join(outside, "repo"), join(root, "dotgit-link/.git"));
mkdirSync(join(root, "gitfile"));
writeFileSync(join(root, "gitfile/.git"), `gitdir: ${relative(join(root, "gitfile"), outside)}\n`);
mkdirSync(join(root, "alternates/objects/info"), { recursive: true });
writeFileSync(join(root, "alternates/HEAD"), "ref: refs/heads/main\n");
writeFileSync(join(root, "alternates/objects/info/alternates"), `${join(outside, "objects")}\n`);
symlinkSync(outside, join(root, "suffix.git"));
mkdirSync(join(root, "suffix/.git"), { recursive: true });

const policy = createLocalRootsPolicy(() => [root]);
const refused = (repository: string) => ({
  code: "permissionDenied",
  message: `repository "${repository}" is a path on the server outside [source] local_roots ("${root}"): network callers may name only folders under those roots`,
});

describe("[source] local_roots for network callers", () => {
  for (const ok of ["app", "repo", "bare", "link-in"]) {
    it(`allows ${ok} under a root`, async () => {
      await policy.check(join(root, ok));
      await policy.check(`file://${join(root, ok)}`);
    });
  }

  it("lets every remote url through", async () => {
    await policy.check("https://git.example.com/a.git");
    await policy.check("git@git.example.com:a.git");
  });

  const escapes: Array<[string, () => string, () => string]> = [
    ["a folder outside every root", () => outside, () => outside],
    ["a file:// url outside every root", () => `file://${outside}`, () => `file://${outside}`],
    ["a .. escaping the root", () => `${root}/../outside`, () => outside],
    ["a percent-encoded .. in a file:// url", () => `file://${root}/%2e%2e/outside`, () => `file://${outside}`],
    ["a relative path", () => "outside", () => join(process.cwd(), "outside")],
    ["a ~ path", () => "~/.ssh", () => join(process.cwd(), "~/.ssh")],
    ["a symlink out of the root", () => join(root, "link-out"), () => join(root, "link-out")],
    ["a .git symlink out of the root", () => join(root, "dotgit-link"), () => join(root, "dotgit-link")],
    ["a .git file pointing out of the root", () => join(root, "gitfile"), () => join(root, "gitfile")],
    ["objects borrowed from outside the root", () => join(root, "alternates"), () => join(root, "alternates")],
    ["a <path>.git fallback out of the root", () => join(root, "suffix"), () => join(root, "suffix")],
  ];
  for (const [what, input, shown] of escapes) {
    it(`refuses ${what} with permission denied naming [source] local_roots`, async () => {
      await assert.rejects(policy.check(input()), refused(shown()));
    });
  }

  it("refuses every local path when no root is set", async () => {
    await assert.rejects(createLocalRootsPolicy(() => []).check(join(root, "app")), {
      code: "permissionDenied",
      message: `repository "${join(root, "app")}" is a path on the server outside [source] local_roots (none is set): network callers may name only folders under those roots`,
    });
  });

  it("answers not found for a missing path inside a root, and permission denied for one outside", async () => {
    await assert.rejects(policy.check(join(root, "missing")), {
      code: "notFound",
      message: `repository "${join(root, "missing")}" was not found: expected a reachable git repository`,
    });
    await assert.rejects(policy.check(join(outside, "missing")), refused(join(outside, "missing")));
  });
});

describe("overlapping checks of one repository", () => {
  it("look at the disk again once they settled: a folder turned into a symlink out of the root is refused next", async () => {
    const dir = mkdtempSync(join(root, "moving-"));
    const policy = createLocalRootsPolicy(() => [root]);
    await Promise.all(Array.from({ length: 16 }, () => policy.check(dir)));
    // The folder turns into a symlink out of the root: the next check sees it.
    rmSync(dir, { recursive: true });
    symlinkSync(outside, dir);
    await assert.rejects(policy.check(dir), refused(dir));
  });

  it("give every overlapping caller the refusal when the repository is refused", async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => policy.check(outside)));
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.equal((r as PromiseRejectedResult).reason.message, refused(outside).message);
    }
  });
});
