import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { archive, dir, endOfArchive, file, gnuLong, hardlink, pax, rawHeader, symlink } from "../../test/security/fixtures/raw-tar.js";
import { defaultArchiveLimits } from "./archive-limits.js";
import { createTarParser, type RawEntry, type TarEvent } from "./tar-parser.js";

/** Parses `bytes` fed in pieces of `piece` bytes; returns entries with their bodies. */
function parse(bytes: Buffer, piece = bytes.length): Array<Pick<RawEntry, "name" | "linkname" | "typeflag" | "size"> & { body: string }> {
  const parser = createTarParser(defaultArchiveLimits);
  const events: TarEvent[] = [];
  for (let i = 0; i < bytes.length; i += piece) events.push(...parser.push(bytes.subarray(i, i + piece)));
  events.push(...parser.end());
  const out: Array<Pick<RawEntry, "name" | "linkname" | "typeflag" | "size"> & { body: string }> = [];
  for (const e of events) {
    if (e.kind === "entry") out.push({ name: e.entry.name, linkname: e.entry.linkname, typeflag: e.entry.typeflag, size: e.entry.size, body: "" });
    const last = out.at(-1);
    if (e.kind === "data" && last) last.body += e.bytes.toString();
  }
  return out;
}

function malformed(bytes: Buffer, message: string): void {
  assert.throws(() => parse(bytes), (err: Error & { code?: string }) => {
    assert.equal(err.message, message);
    assert.equal(err.code, "invalidArgument");
    return true;
  });
}

describe("tar parser", () => {
  const sample = archive(dir("a/"), file("a/f.txt", "hello".repeat(200)), symlink("s", "a/f.txt"), hardlink("h", "a/f.txt"), file("empty"));
  const expected = [
    { name: "a/", linkname: "", typeflag: "5", size: 0, body: "" },
    { name: "a/f.txt", linkname: "", typeflag: "0", size: 1000, body: "hello".repeat(200) },
    { name: "s", linkname: "a/f.txt", typeflag: "2", size: 0, body: "" },
    { name: "h", linkname: "a/f.txt", typeflag: "1", size: 0, body: "" },
    { name: "empty", linkname: "", typeflag: "0", size: 0, body: "" },
  ];

  it("reads entries and bodies whatever the size of the pieces", () => {
    for (const piece of [1, 7, 512, 513, 100_000]) assert.deepEqual(parse(sample, piece), expected, `pieces of ${piece}`);
  });

  it("applies PAX path and linkpath, GNU long names and long links, and PAX size", () => {
    const long = `${"x".repeat(150)}/name`;
    assert.deepEqual(parse(archive(
      pax([["path", long], ["size", "3"], ["comment", "ignored"]]), file("short", "abc"),
      gnuLong("L", "gnu/long"), gnuLong("K", "gnu/target"), symlink("n", "t"),
      pax([["linkpath", "p/target"]]), symlink("m", "t"),
    )), [
      { name: long, linkname: "", typeflag: "0", size: 3, body: "abc" },
      { name: "gnu/long", linkname: "gnu/target", typeflag: "2", size: 0, body: "" },
      { name: "m", linkname: "p/target", typeflag: "2", size: 0, body: "" },
    ]);
  });

  it("names an entry by GNU.sparse.name and marks it sparse", () => {
    const parser = createTarParser(defaultArchiveLimits);
    const [first] = parser.push(archive(pax([["GNU.sparse.name", "real"]]), file("GNUSparseFile.0/real", "x")));
    assert.equal(first?.kind === "entry" && first.entry.name, "real");
    assert.equal(first?.kind === "entry" && first.entry.sparse, true);
  });

  it("joins the ustar prefix in POSIX headers and ignores that field in GNU headers", () => {
    assert.deepEqual(parse(archive(rawHeader({ name: "n", prefix: "p/q" }), rawHeader({ name: "g", prefix: "ignored", format: "gnu" }))).map((e) => e.name), ["p/q/n", "g"]);
  });

  it("takes a name cut anywhere in the header field when an extension record gives it whole", () => {
    const name = "€".repeat(40);
    const cut = Buffer.from(name).subarray(0, 100);
    assert.deepEqual(parse(archive(gnuLong("L", name), rawHeader({ name: cut }))).map((e) => e.name), [name]);
    assert.throws(() => parse(archive(rawHeader({ name: cut }))), {
      message: `archive entry "${"€".repeat(33)}\uFFFD": the name in the header at byte 0 is not valid UTF-8`,
      code: "invalidArgument",
    });
  });

  it("reads base-256 sizes and accepts signed checksums", () => {
    const [event] = createTarParser(defaultArchiveLimits).push(rawHeader({ name: "big", size: 8 ** 11 }));
    assert.equal(event?.kind === "entry" ? event.entry.size : undefined, 8 ** 11);
    const signed = rawHeader({ name: "é", size: 0 });
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : signed[i]! > 127 ? signed[i]! - 256 : signed[i]!;
    signed.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
    assert.deepEqual(parse(archive(signed)).map((e) => e.name), ["é"]);
  });

  it("ignores what follows the end-of-archive marker and accepts an archive without one", () => {
    assert.deepEqual(parse(Buffer.concat([sample, file("../after-the-end", "x")])), expected);
    assert.deepEqual(parse(Buffer.concat([dir("a/"), Buffer.alloc(512)])).map((e) => e.name), ["a/"]);
  });

  it("refuses a bad checksum", () => malformed(archive(file("a"), file("b", "", { checksumOffset: 1 })), "archive is not a valid tar: the header at byte 512 has a bad checksum"));
  it("refuses a checksum that is not octal", () => {
    const h = rawHeader({ name: "a" });
    h.write("9", 148, "latin1");
    malformed(h, "archive is not a valid tar: the header at byte 0 has a bad checksum");
  });
  it("refuses entries after a lone zero block", () =>
    malformed(Buffer.concat([Buffer.alloc(512), file("a")]), "archive is not a valid tar: the zero block at byte 0 is followed by more entries"));
  it("refuses an archive cut in a header", () => malformed(rawHeader({ name: "a" }).subarray(0, 100), "archive is not a valid tar: it ends early, at byte 100"));
  it("refuses an archive cut in its padding", () => malformed(file("a", "x").subarray(0, 600), "archive is not a valid tar: it ends early, at byte 600"));
  it("refuses an extension record with no entry after it", () =>
    malformed(Buffer.concat([pax([["path", "a"]]), endOfArchive()]), "archive is not a valid tar: the extension record before byte 1024 is followed by the end of the archive"));
  it("refuses a size field that is not a number", () => {
    const h = rawHeader({ name: "a" });
    h.write("12x", 124, "latin1");
    const sum = [...h].reduce((s, b, i) => s + (i >= 148 && i < 156 ? 0x20 : b), 0);
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
    assert.throws(() => parse(h), { message: `archive entry "a": its size field is not a valid number`, code: "invalidArgument" });
  });
  it("refuses a negative base-256 size", () => {
    const h = rawHeader({ name: "a" });
    h.fill(0xff, 124, 136);
    const sum = [...h].reduce((s, b, i) => s + (i >= 148 && i < 156 ? 0x20 : b), 0);
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
    assert.throws(() => parse(h), { message: `archive entry "a": its size field is not a valid number`, code: "invalidArgument" });
  });
  it("refuses a PAX size that is not a whole number", () =>
    assert.throws(() => parse(archive(pax([["size", "1e3"]]), file("a"))), { message: `archive entry "a": its PAX size "1e3" is not valid: expected a whole number`, code: "invalidArgument" }));
  it("refuses a GNU long link and a PAX linkpath that disagree", () =>
    assert.throws(() => parse(archive(gnuLong("K", "one"), pax([["linkpath", "two"]]), symlink("s", "x"))), {
      message: `archive entry "s": its PAX linkpath "two" and GNU long link "one" disagree on the link target`,
      code: "invalidArgument",
    }));
  it("refuses a PAX record whose length does not match", () =>
    assert.throws(() => parse(archive(rawHeader({ name: "p", typeflag: "x", size: 12 }), Buffer.from("99 path=a\n\0\0".padEnd(512, "\0")), file("a"))), {
      message: `archive entry "p": its PAX record at byte 0 does not end where its length says`,
      code: "invalidArgument",
    }));
  it("refuses a PAX record without a key", () =>
    assert.throws(() => parse(archive(rawHeader({ name: "p", typeflag: "x", size: 5 }), Buffer.from("5 =a\n".padEnd(512, "\0")), file("a"))), {
      message: `archive entry "p": its PAX record at byte 0 has no key`,
      code: "invalidArgument",
    }));
  it("refuses two GNU long names for one entry", () =>
    assert.throws(() => parse(archive(gnuLong("L", "one"), gnuLong("L", "two"), file("a"))), {
      message: `archive entry "././@LongLink": a second GNU long name record comes before the entry it applies to`,
      code: "invalidArgument",
    }));
});
