import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createEngine, createEngineAt, type Engine } from "./engine.js";
import { imagePath } from "./image-path.js";

/** References a caller could send to reach another endpoint or query if the name went into the path as is. */
const hostile = [
  "local/busybox:1/json?",
  "busybox:1?force=true",
  "../../containers/json?all=1#",
  "x/../../../v1.41/containers/create?name=evil",
  "a#/json",
  "a%2F..%2Fb",
];

describe("image paths of the Engine API", () => {
  it("carry the reference as one percent-encoded segment", () => {
    assert.equal(imagePath("registry.example.com:5000/team/app:1", "/json"), "/images/registry.example.com%3A5000%2Fteam%2Fapp%3A1/json");
    assert.equal(imagePath("a?b#c/../d", "/tag?"), "/images/a%3Fb%23c%2F..%2Fd/tag?");
  });
});

describe("an engine whose socket records every request", () => {
  let dir: string;
  let server: http.Server;
  let engine: Engine;
  const seen: { method: string; url: string }[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "buildplane-engine-paths-"));
    const socketPath = join(dir, "engine.sock");
    server = http.createServer((req, res) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "" });
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "no such image" }));
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    engine = createEngineAt({ kind: "socket", socketPath, label: `unix://${socketPath}` });
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  /** The one request the last call made: its method, the decoded image name, the rest of the path and the query. */
  const lastRequest = (): { method: string; name: string; rest: string; query: string } => {
    const last = seen.at(-1);
    assert.ok(last, "no request reached the engine");
    const url = new URL(last.url, "http://engine");
    const m = /^\/images\/([^/]*)(\/[a-z]+)?$/.exec(url.pathname);
    assert.ok(m, `the request went to ${last.url}, not to an image endpoint`);
    return { method: last.method, name: decodeURIComponent(m[1] ?? ""), rest: m[2] ?? "", query: url.search };
  };

  for (const ref of hostile) {
    it(`sends ${JSON.stringify(ref)} only to the image endpoints, named exactly, with no query of its own`, async () => {
      assert.deepEqual(await engine.hasImage(ref), { exists: false, id: "" });
      assert.deepEqual(lastRequest(), { method: "GET", name: ref, rest: "/json", query: "" });

      await assert.rejects(engine.exportImage(ref, AbortSignal.timeout(5000)), (err: Error & { code?: string }) => {
        assert.equal(err.code, "notFound");
        assert.equal(err.message, `image ${JSON.stringify(ref)} does not exist in the local container engine`);
        return true;
      });
      assert.deepEqual(lastRequest(), { method: "GET", name: ref, rest: "/get", query: "" });

      await assert.rejects(engine.tag(ref, "registry.example.com/app:1"), (err: Error & { code?: string }) => {
        assert.equal(err.code, "notFound");
        return true;
      });
      assert.deepEqual(lastRequest(), { method: "POST", name: ref, rest: "/tag", query: "?repo=registry.example.com%2Fapp&tag=1" });

      assert.equal(await engine.removeImage(ref), false);
      assert.deepEqual(lastRequest(), { method: "DELETE", name: ref, rest: "", query: "?force=false" });
    });
  }
});

for (const kind of ["docker", "podman"] as const) {
  describe(`encoded image names on ${kind}`, () => {
    let engine: Engine;
    const copy = `buildplane-engine-test/paths-${kind}:${randomBytes(6).toString("hex")}`;

    before(async () => {
      engine = await createEngine({ command: kind });
    });

    after(async () => {
      await engine.removeImage(copy, { force: true }).catch(() => undefined);
    });

    it("still finds, tags, exports and removes images whose names hold / and :", async () => {
      const base = await engine.hasImage("local/busybox:1");
      assert.equal(base.exists, true);
      await engine.tag("local/busybox:1", copy);
      assert.equal((await engine.hasImage(copy)).id, base.id);
      const archive = await engine.exportImage(copy, AbortSignal.timeout(30_000));
      archive.resume();
      await new Promise((resolve, reject) => archive.on("end", resolve).on("error", reject));
      assert.equal(await engine.removeImage(copy), true);
      assert.equal((await engine.hasImage(copy)).exists, false);
    });
  });
}

describe("a name that reaches another image when sent unencoded", () => {
  it("is looked up on docker as the whole name, and refused as an invalid reference", async () => {
    const engine = await createEngine({ command: "docker" });
    const ref = "local/busybox:1/json?";
    await assert.rejects(engine.hasImage(ref), (err: Error & { code?: string }) => {
      assert.equal(err.code, "invalidArgument");
      assert.equal(
        err.message,
        `inspect of image "${ref}" was refused by the container engine (http 400): no such image: ${ref}: invalid reference format`,
      );
      return true;
    });
  });
});
