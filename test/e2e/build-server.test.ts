import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tempDir } from "../helpers/temp-dir.js";
import { startServe } from "../rpc/serve-process.js";
import { makeAppRepo, removeImages, runImage } from "./app-fixture.js";
import { cliEnv, describeRun, runCli } from "./cli-process.js";

describe("buildplane build --server", () => {
  it("builds through a running buildplane serve, then is served from its cache", async (t) => {
    const repo = await makeAppRepo();
    const serverData = await tempDir("buildplane-e2e-data-");
    const clientData = await tempDir("buildplane-e2e-data-");
    const images: string[] = [];
    // The repository is a server folder: allow it, as an operator would with [source] local_roots.
    const server = await startServe([], cliEnv(serverData.path, { BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path }));
    t.after(async () => {
      server.child.kill("SIGTERM");
      await Promise.race([server.exited, new Promise((r) => setTimeout(r, 10_000))]);
      server.kill();
      await removeImages("docker", images);
      await repo.remove();
      await serverData.remove();
      await clientData.remove();
    });
    const client = cliEnv(clientData.path);
    const args = ["build", repo.url, "--dir", "app", "--arg", "GREETING=hej", "--json", "--server", server.url];

    const first = await runCli(args, client);
    assert.equal(first.code, 0, describeRun(first));
    assert.equal(first.last?.type, "ready", describeRun(first));
    assert.equal(first.last["cached"], false);
    const image = String(first.last["image"]);
    images.push(image);
    assert.ok(first.events.some((e) => e.type === "log"), "log lines travel through the server");
    assert.match(await runImage(image), /^hej from widget$/m);

    const second = await runCli(args, client);
    assert.equal(second.code, 0, describeRun(second));
    assert.deepEqual(second.events, [{ type: "ready", image, digest: first.last["digest"], cached: true, buildId: "" }]);

    const onServer = await runCli(["builds", "list", "--json", "--server", server.url], client);
    const serverRecords = JSON.parse(onServer.stdout) as { id: string; status: string }[];
    assert.deepEqual(serverRecords.map((b) => [b.id, b.status]), [[first.last["buildId"], "succeeded"]]);
  });
});
