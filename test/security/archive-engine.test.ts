import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { createEngine, type Engine } from "../../libs/engine/engine.js";
import { confineArchive } from "../../libs/tar/archive-confiner.js";
import { archive, dir, file, gnuLong, hardlink, pax, symlink } from "./fixtures/raw-tar.js";

const long = `${"l".repeat(130)}/${"n".repeat(140)}.txt`;
const longTarget = "t".repeat(120);
const containerfile = [
  "FROM local/busybox:1",
  "COPY . /ctx",
  `RUN stat -c '%a %h %u %n' /ctx/app/run.sh /ctx/copy.sh '/ctx/${long}' && readlink /ctx/app/far && readlink /ctx/app/near && cat '/ctx/${long}'`,
].join("\n");

/** A context using what the confiner rewrites: PAX and GNU long names, owners, xattrs, a hard link. */
function context(): Readable {
  return confineArchive(Readable.from([archive(
    dir("./"),
    file("Containerfile", `${containerfile}\n`),
    dir("app/", { uid: 4242 }),
    file("app/run.sh", "echo run\n", { mode: 0o755, uid: 4242, uname: "mallory" }),
    pax([["path", long], ["SCHILY.xattr.user.note", "dropped"]]), file("short-name", "long-body\n"),
    gnuLong("K", longTarget), symlink("app/far", "x"),
    symlink("app/near", "run.sh"),
    hardlink("copy.sh", "app/run.sh"),
  )]));
}

for (const kind of ["docker", "podman"] as const) {
  describe(`the confined output unpacked by ${kind}`, () => {
    let engine: Engine;
    const tag = `buildplane-archive-test/${kind}:${randomBytes(4).toString("hex")}`;
    before(async () => {
      engine = await createEngine({ command: kind });
    });
    after(() => engine.removeImage(tag, { force: true }));

    it("holds the declared names, link targets, a shared hard link with its mode, and owner 0", async () => {
      const lines: string[] = [];
      await engine.build({ context: context(), tag, dockerfile: "Containerfile", buildArgs: {} }, (_stream, text) => void lines.push(text.trim()), AbortSignal.timeout(120_000));
      const out = lines.join("\n");
      assert.match(out, /^755 2 0 \/ctx\/app\/run\.sh$/m);
      assert.match(out, /^755 2 0 \/ctx\/copy\.sh$/m);
      assert.match(out, new RegExp(`^644 1 0 /ctx/${long}$`, "m"));
      assert.match(out, new RegExp(`^${longTarget}\\nrun\\.sh$`, "m"));
      assert.match(out, /^long-body$/m);
    });
  });
}
