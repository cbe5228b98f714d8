import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createEngine, type Engine } from "../../libs/engine/engine.js";
import { PODMAN_ROOT_SOCKET } from "../../libs/engine/engine-endpoint.js";
import { pushImageArchive } from "../../libs/registry/push-image-archive.js";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { tarContext } from "../engine/engine-fixtures.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { startFailingProxy } from "./failing-proxy.js";
import { optionsFor } from "./fixtures.js";

describe("pushing an image built and exported by the Podman engine", () => {
  const id = randomBytes(4).toString("hex");
  const localTag = `buildplane-podman-push/app:${id}`;
  let engine: Engine;
  let reg: TestRegistry;
  before(async () => {
    engine = await createEngine({ command: "podman", socketPath: PODMAN_ROOT_SOCKET });
    assert.equal((await engine.info()).name, "podman");
    reg = await startRegistry();
    await engine.build(
      {
        context: tarContext({ "Containerfile": `FROM local/busybox:1\nRUN echo 'hello ${id}' > /hello.txt\nCMD ["cat", "/hello.txt"]\n` }),
        tag: localTag, dockerfile: "Containerfile", buildArgs: {},
      },
      () => undefined,
      AbortSignal.timeout(120_000),
    );
  });
  after(async () => {
    await engine.removeImage(localTag, { force: true });
    await reg.stop();
  });

  it("pushes it with our client; a fresh client finds its digest, podman pulls it back, and a second push uploads no layer", async () => {
    const proxy = await startFailingProxy(reg.host, 0);
    const client = createRegistryClient(optionsFor(reg, { url: proxy.host, insecure: true }));
    const pulled = `${reg.host}/podman/app:${id}`;
    try {
      const reference = `${proxy.host}/podman/app:${id}`;
      const first = await pushImageArchive(client, await engine.exportImage(localTag, AbortSignal.timeout(60_000)), reference);
      assert.match(first.digest, /^sha256:[0-9a-f]{64}$/);
      assert.ok(first.uploaded >= 2, `uploaded ${first.uploaded}`);

      const fresh = createRegistryClient(optionsFor(reg, { insecure: true }));
      try {
        assert.equal((await fresh.headManifest("podman/app", id))?.digest, first.digest);
      } finally { fresh.close(); }

      await runCommand("podman", ["pull", "--quiet", "--tls-verify=false", pulled]);
      const { stdout } = await runCommand("podman", ["image", "inspect", "--format", "{{json .RepoDigests}}", pulled]);
      assert.ok((JSON.parse(stdout) as string[]).includes(`${reg.host}/podman/app@${first.digest}`), stdout);

      proxy.seen.length = 0;
      const second = await pushImageArchive(client, await engine.exportImage(localTag, AbortSignal.timeout(60_000)), reference);
      assert.equal(second.digest, first.digest);
      assert.equal(second.uploaded, 0);
      assert.deepEqual(proxy.seen.filter((s) => !s.startsWith("HEAD ")), [`PUT /v2/podman/app/manifests/${id}`]);
    } finally {
      client.close();
      await proxy.stop();
      await engine.removeImage(pulled, { force: true });
    }
  });
});
