import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { describe, it } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { extract, pack, type Header } from "tar-stream";
import { archive, dir, file, gnuLong, pax, rawHeader, symlink } from "../../test/security/fixtures/raw-tar.js";
import { confineArchive } from "./archive-confiner.js";

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Read {
  header: Header;
  body: string;
}

/** The entries of a tar as tar-stream reads them. */
async function entries(tar: Buffer): Promise<Read[]> {
  const out: Read[] = [];
  const ex = extract();
  ex.end(tar);
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    out.push({ header: entry.header, body: Buffer.concat(chunks).toString() });
  }
  return out;
}

describe("confineArchive", () => {
  it("passes an ordinary archive through with its names, types, modes, link targets and bodies", async () => {
    const p = pack();
    p.entry({ name: "app/", type: "directory", mode: 0o755, uid: 1000, uname: "me" });
    p.entry({ name: "app/run.sh", mode: 0o755, mtime: new Date(1_700_000_000_000) }, "#!/bin/sh\necho hi\n");
    p.entry({ name: "app/link", type: "symlink", linkname: "run.sh" });
    p.entry({ name: "app/copy", type: "link", linkname: "app/run.sh" });
    p.entry({ name: "big.bin" }, Buffer.alloc(70_000, 7));
    p.finalize();
    const out = await entries(await drain(confineArchive(Readable.from(await drain(p as unknown as Readable)))));
    assert.deepEqual(out.map((e) => [e.header.name, e.header.type, e.header.mode, e.header.linkname, e.header.size, e.header.uid, e.header.uname, e.body.length]), [
      ["app/", "directory", 0o755, null, 0, 0, "", 0],
      ["app/run.sh", "file", 0o755, null, 18, 0, "", 18],
      ["app/link", "symlink", 0o777, "run.sh", 0, 0, "", 0],
      ["app/copy", "link", 0o755, "app/run.sh", 0, 0, "", 0],
      ["big.bin", "file", 0o644, null, 70_000, 0, "", 70_000],
    ]);
    assert.equal(out[1]?.header.mtime?.getTime(), 1_700_000_000_000);
    assert.equal(out[4]?.body, Buffer.alloc(70_000, 7).toString());
  });

  it("rebuilds headers so that no PAX or GNU record of the input reaches the reader", async () => {
    const input = archive(
      pax([["comment", "x"], ["SCHILY.xattr.user.evil", "1"], ["uname", "root"]], "g"),
      pax([["path", "renamed.txt"], ["SCHILY.xattr.security.capability", "cap"], ["uid", "0"], ["mtime", "12.5"]]), file("short.txt", "abc", { uid: 4242, uname: "mallory" }),
      gnuLong("L", "gnu/long.txt"), file("x", "de"),
    );
    const out = await entries(await drain(confineArchive(Readable.from([input]))));
    assert.deepEqual(out.map((e) => [e.header.name, e.header.uid, e.header.uname, e.header.pax, e.body]), [
      ["renamed.txt", 0, "", null, "abc"],
      ["gnu/long.txt", 0, "", null, "de"],
    ]);
    assert.equal(out[0]?.header.mtime?.getTime(), 12_000);
  });

  it("writes a name too long for ustar fields as a PAX path record and nothing else", async () => {
    const long = `${"d".repeat(120)}/${"f".repeat(120)}`;
    const target = "t".repeat(150);
    const out = await drain(confineArchive(Readable.from([archive(pax([["path", long]]), file("short", "z"), pax([["path", `${long}2`], ["linkpath", target]]), symlink("s", "x"))])));
    const read = await entries(out);
    assert.deepEqual(read.map((e) => [e.header.name, e.header.linkname, e.header.pax, e.body]), [
      [long, null, { path: long }, "z"],
      [`${long}2`, target, { path: `${long}2`, linkpath: target }, ""],
    ]);
  });

  it("splits a name of up to 255 bytes into the ustar prefix and name fields", async () => {
    const name = `${"p".repeat(150)}/${"n".repeat(90)}`;
    const out = await drain(confineArchive(Readable.from([archive(pax([["path", name]]), file("x", "1"))])));
    assert.equal(out.toString("latin1", 345, 495), "p".repeat(150));
    assert.deepEqual((await entries(out)).map((e) => [e.header.name, e.header.pax]), [[name, null]]);
  });

  it("drops the context root entry and ends the output with the end-of-archive marker", async () => {
    const out = await drain(confineArchive(Readable.from([archive(dir("./"), file("./a", "x"))])));
    assert.equal(out.length, 512 * 4);
    assert.deepEqual((await entries(out)).map((e) => e.header.name), ["a"]);
  });

  it("streams bodies as they arrive, before the archive ends", async () => {
    const input = new PassThrough();
    const out = confineArchive(input);
    input.write(rawHeader({ name: "slow", size: 4096 }));
    input.write(Buffer.alloc(1024, 1));
    const first = await new Promise<Buffer>((resolve) => out.once("data", resolve));
    assert.equal(first.toString("latin1", 0, 4), "slow");
    out.destroy();
  });

  it("errors the output with the refusal and releases the input", async () => {
    const input = new PassThrough();
    const out = confineArchive(input);
    input.end(archive(file("a/../../x", "x")));
    await assert.rejects(drain(out), { code: "invalidArgument", message: `archive entry "a/../../x": path escapes the context` });
    assert.equal(input.destroyed, true);
  });

  it("passes an error of the input on to the output as it is", async () => {
    const input = new PassThrough();
    const out = confineArchive(input);
    const cut = new Error("upload cut");
    input.write(rawHeader({ name: "a", size: 10 }));
    input.destroy(cut);
    await assert.rejects(drain(out), (err) => err === cut);
  });

  it("errors the output with canceled and releases the input when the signal aborts", async () => {
    const input = new PassThrough();
    const ac = new AbortController();
    const out = confineArchive(input, {}, ac.signal);
    input.write(rawHeader({ name: "a", size: 4096 }));
    const draining = drain(out);
    ac.abort();
    await assert.rejects(draining, { code: "canceled", message: "reading the archive was canceled" });
    assert.equal(input.destroyed, true);
  });

  it("applies the limits it is given", async () => {
    await assert.rejects(drain(confineArchive(Readable.from([archive(file("a", "x".repeat(11)))]), { maxBytes: 10 })), {
      code: "resourceExhausted",
      message: `archive entry "a": the archive holds more than 10 bytes of file contents`,
    });
  });

  it("stops quietly and releases its input when the reader destroys the output while entries still arrive", async () => {
    const input = new PassThrough();
    const out = confineArchive(input);
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => void uncaught.push(err);
    process.on("uncaughtException", onUncaught);
    try {
      input.write(rawHeader({ name: "first" }));
      await new Promise((resolve) => out.once("data", resolve));
      out.destroy();
      for (let i = 0; i < 50 && !input.destroyed; i++) {
        input.write(rawHeader({ name: `f${i}` }));
        await tick();
      }
      assert.deepEqual(uncaught, []);
      assert.equal(input.destroyed, true, "the input is released");
    } finally {
      process.off("uncaughtException", onUncaught);
      input.destroy();
    }
  });
});
