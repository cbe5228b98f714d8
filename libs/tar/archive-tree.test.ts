import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultArchiveLimits, resolveArchiveLimits, type ArchiveLimits } from "./archive-limits.js";
import { createArchiveTree, type ConfinedEntry } from "./archive-tree.js";
import type { RawEntry } from "./tar-parser.js";

type Spec = Partial<RawEntry> & { name: string };

const raw = (s: Spec): RawEntry => ({ linkname: "", typeflag: "0", mode: 0o644, size: 0, mtime: 0, sparse: false, offset: 0, ...s });
const f = (name: string, extra: Partial<RawEntry> = {}): Spec => ({ name, ...extra });
const d = (name: string, extra: Partial<RawEntry> = {}): Spec => ({ name, typeflag: "5", mode: 0o755, ...extra });
const sym = (name: string, linkname: string): Spec => ({ name, typeflag: "2", linkname, mode: 0o777 });
const hard = (name: string, linkname: string): Spec => ({ name, typeflag: "1", linkname });

/** Admits every spec in order; returns what came out. */
function admitAll(specs: Spec[], limits: Partial<ArchiveLimits> = {}): Array<ConfinedEntry | undefined> {
  const tree = createArchiveTree(resolveArchiveLimits(limits));
  return specs.map((s) => tree.admit(raw(s)));
}

function refuses(specs: Spec[], message: string, code = "invalidArgument", limits: Partial<ArchiveLimits> = {}): void {
  assert.throws(() => admitAll(specs, limits), (err: Error & { code?: string }) => {
    assert.equal(err.message, message);
    assert.equal(err.code, code);
    return true;
  });
}

describe("archive tree rules", () => {
  describe("names", () => {
    it("normalises names and drops the context root folder", () => {
      assert.deepEqual(admitAll([d("./"), f(".//a/./b.txt"), d("c/d/")]), [
        undefined,
        { type: "file", path: "a/b.txt", mode: 0o644, size: 0, mtime: 0 },
        { type: "directory", path: "c/d", mode: 0o755, mtime: 0 },
      ]);
    });
    it("refuses a name that climbs out", () => refuses([f("a/../../x")], `archive entry "a/../../x": path escapes the context`));
    it("refuses a .. segment even when it stays inside", () => refuses([f("a/../x")], `archive entry "a/../x": path contains a ".." segment`));
    it("refuses an absolute name", () => refuses([f("/x")], `archive entry "/x": path is absolute`));
    it("refuses an empty name", () => refuses([f("")], `archive entry "": path is empty`));
    it("refuses a NUL byte", () => refuses([f("a\0b")], `archive entry "a\\u0000b": path contains a NUL byte`));
    it("refuses a backslash", () => refuses([f("a\\b")], `archive entry "a\\\\b": path contains a backslash`));
    it("refuses a drive letter", () => refuses([f("c:x")], `archive entry "c:x": path starts with a drive letter`));
    it("refuses a name longer than the limit, in UTF-8 bytes", () =>
      refuses([f("é".repeat(6))], `archive entry "éééééé": path is longer than 11 bytes`, "resourceExhausted", { maxPathLength: 11 }));
    it("refuses a file name over 255 bytes between slashes, counted in UTF-8", () => {
      assert.equal(admitAll([f(`a/${"é".repeat(127)}`)]).length, 1);
      refuses([f(`a/${"é".repeat(128)}/b`)], `archive entry "a/${"é".repeat(128)}/b": path has a name longer than 255 bytes between slashes`);
    });
    it("refuses anything but a folder at the context root", () => refuses([f(".")], `archive entry ".": only a folder may be the context root`));
  });

  describe("types and modes", () => {
    it("reads an old-style regular entry with a trailing slash as a folder", () => {
      assert.deepEqual(admitAll([f("old/", { typeflag: "\0", mode: 0o755 })]), [{ type: "directory", path: "old", mode: 0o755, mtime: 0 }]);
    });
    it("keeps permission bits, drops the sticky bit, and clamps a negative mtime", () => {
      assert.deepEqual(admitAll([d("tmp/", { mode: 0o1777, mtime: -5 }), f("run.sh", { mode: 0o100755, mtime: 7 })]), [
        { type: "directory", path: "tmp", mode: 0o777, mtime: 0 },
        { type: "file", path: "run.sh", mode: 0o755, size: 0, mtime: 7 },
      ]);
    });
    it("refuses the set-uid bit", () => refuses([f("su", { mode: 0o4755 })], `archive entry "su": the set-uid bit is refused`));
    it("refuses the set-gid bit", () => refuses([d("g/", { mode: 0o2755 })], `archive entry "g/": the set-gid bit is refused`));
    it("refuses character devices", () => refuses([f("c", { typeflag: "3" })], `archive entry "c": character devices are refused`));
    it("refuses block devices", () => refuses([f("b", { typeflag: "4" })], `archive entry "b": block devices are refused`));
    it("refuses fifos", () => refuses([f("p", { typeflag: "6" })], `archive entry "p": fifos are refused`));
    it("refuses GNU sparse entries", () => refuses([f("s", { typeflag: "S" })], `archive entry "s": sparse files are refused`));
    it("refuses entries that came with GNU sparse PAX records", () => refuses([f("s", { sparse: true })], `archive entry "s": sparse files are refused`));
    it("refuses unknown types", () =>
      refuses([f("v", { typeflag: "V" })], `archive entry "v": entry type "V" is refused: expected a file, folder, symlink or hard link`));
    it("refuses data on anything but a file", () => refuses([d("d/", { size: 1 })], `archive entry "d/": a directory entry may not carry data (size 1)`));
  });

  describe("the tree", () => {
    it("accepts a folder declared twice, before and after its content", () => {
      assert.equal(admitAll([d("a/"), f("a/x"), d("a/"), d("b/c/"), d("b/")]).length, 5);
    });
    it("refuses an entry through a symlink", () => refuses([sym("l", "."), f("l/x")], `archive entry "l/x": path goes through the symlink "l"`));
    it("refuses an entry through a deeper symlink", () =>
      refuses([d("a/b/"), sym("a/b/l", ".."), d("a/b/l/c/")], `archive entry "a/b/l/c/": path goes through the symlink "a/b/l"`));
    it("refuses an entry through a file", () => refuses([f("f"), f("f/x")], `archive entry "f/x": path goes through the file "f"`));
    it("refuses a symlink over a folder implied by an earlier entry", () =>
      refuses([f("a/b/x"), sym("a/b", "..")], `archive entry "a/b": path is already a folder of the archive`));
    it("refuses a file over a folder", () => refuses([d("a/"), f("a")], `archive entry "a": path is already a folder of the archive`));
    it("refuses a second entry with the name of a file", () => refuses([f("x"), f("x")], `archive entry "x": path is already used by an earlier entry`));
    it("refuses a folder over a symlink", () => refuses([sym("x", "."), d("x/")], `archive entry "x/": path is already used by an earlier entry`));
  });

  describe("symlinks", () => {
    it("accepts targets that stay inside, climbing from the link's own folder", () => {
      assert.deepEqual(admitAll([d("a/b/"), sym("a/b/s", "../.."), sym("a/t", "../c/./d"), sym("u", ".")]).slice(1), [
        { type: "symlink", path: "a/b/s", target: "../..", mtime: 0 },
        { type: "symlink", path: "a/t", target: "../c/./d", mtime: 0 },
        { type: "symlink", path: "u", target: ".", mtime: 0 },
      ]);
    });
    it("refuses a target above the context", () => refuses([sym("a/s", "../..")], `archive entry "a/s": symlink target "../.." points outside the context`));
    it("refuses an absolute target", () => refuses([sym("s", "/etc")], `archive entry "s": symlink target "/etc" is absolute`));
    it("refuses an empty target", () => refuses([sym("s", "")], `archive entry "s": symlink target is empty`));
    it("refuses a target climbing after a name", () =>
      refuses([sym("s", "x/../y")], `archive entry "s": symlink target "x/../y" climbs with ".." after a name, which could resolve through another symlink`));
    it("refuses a target with a backslash", () => refuses([sym("s", "..\\..")], `archive entry "s": symlink target "..\\\\.." contains a backslash`));
    it("refuses a target longer than the limit", () =>
      refuses([sym("s", "a".repeat(20))], `archive entry "s": symlink target is longer than 10 bytes`, "resourceExhausted", { maxPathLength: 10 }));
  });

  describe("hard links", () => {
    it("accepts a link to an earlier file, and a link to that link, both with the file's permission bits", () => {
      assert.deepEqual(admitAll([f("./a/f", { mode: 0o755 }), hard("h", "a/f"), hard("h2", "./h")]).slice(1), [
        { type: "link", path: "h", target: "a/f", mode: 0o755, mtime: 0 },
        { type: "link", path: "h2", target: "h", mode: 0o755, mtime: 0 },
      ]);
    });
    it("refuses a link to a name the archive does not hold", () =>
      refuses([hard("h", "etc/passwd")], `archive entry "h": hard link target "etc/passwd" is not an earlier file of the archive`));
    it("refuses a link to itself", () => refuses([hard("h", "h")], `archive entry "h": hard link target "h" is not an earlier file of the archive`));
    it("refuses a link to a symlink", () => refuses([sym("s", "."), hard("h", "s")], `archive entry "h": hard link target "s" is a symlink`));
    it("refuses a link through a symlink", () =>
      refuses([d("sub/"), f("sub/x"), sym("d", "sub"), hard("h", "d/x")], `archive entry "h": hard link target "d/x" goes through the symlink "d"`));
    it("refuses a link under a file", () => refuses([f("f"), hard("h", "f/x")], `archive entry "h": hard link target "f/x" is not an earlier file of the archive`));
    it("refuses a link to a folder", () => refuses([d("d/"), hard("h", "d/")], `archive entry "h": hard link target "d/" is a folder`));
    it("refuses a link to an implied folder", () => refuses([f("d/x"), hard("h", "d")], `archive entry "h": hard link target "d" is a folder`));
    it("refuses a link whose target climbs out", () => refuses([hard("h", "../x")], `archive entry "h": hard link target "../x" escapes the context`));
    it("refuses a link to the context root", () => refuses([hard("h", ".")], `archive entry "h": hard link target "." is a folder`));
  });

  describe("limits", () => {
    it("counts the bytes of files only", () => {
      assert.equal(admitAll([f("a", { size: 6 }), d("d/"), f("b", { size: 4 })], { maxBytes: 10 }).length, 3);
    });
    it("refuses the file that goes over the byte limit", () =>
      refuses([f("a", { size: 6 }), f("b", { size: 5 })], `archive entry "b": the archive holds more than 10 bytes of file contents`, "resourceExhausted", { maxBytes: 10 }));
    it("refuses the entry that goes over the entry limit", () =>
      refuses([d("a/"), d("b/"), d("c/")], `archive entry "c/": the archive has more than 2 entries`, "resourceExhausted", { maxEntries: 2 }));
    it("refuses a limit that is not a whole number", () => {
      assert.throws(() => resolveArchiveLimits({ maxBytes: -1 }), (err: Error & { code?: string }) => {
        assert.equal(err.message, "archive limit maxBytes -1 is not valid: expected a whole number of 0 or more");
        assert.equal(err.code, "invalidArgument");
        return true;
      });
      assert.equal(resolveArchiveLimits().maxEntries, defaultArchiveLimits.maxEntries);
    });
  });
});
