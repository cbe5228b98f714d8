import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startNode, type TestNode } from "../delegate/fixtures/start-node.js";
import { ensureBuilt } from "../helpers/ensure-built.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { launchBrowser, screenshot, type TestBrowser } from "./browser.js";
import { ensureWebBundle, newToken, serve, signIn, writeToml } from "./web-fixture.js";

// A main install delegating to one real builder node (`buildplane serve`
// processes both); the node is stopped with SIGSTOP, as a hung machine, while
// the pool page watches. The main install probes its nodes every 5 s with a
// 2 s timeout, so the page may take up to ~10 s to see it.

const nodeToken = newToken();
const readToken = newToken();
let dir: TempDir;
let node: TestNode;
let main: TestNode;
let browser: TestBrowser;

before(async () => {
  ensureBuilt();
  ensureWebBundle();
  dir = await tempDir("buildplane-web-pool-");
  node = await startNode({ token: nodeToken });
  const config = await writeToml(dir.path, "main", {
    http: { host: "127.0.0.1", port: 0, redirect_to_https: false },
    builder: { mode: `delegate:${node.url}` },
    registry: { url: "127.0.0.1:5000", project: "web-pool", insecure: true },
    security: { read_token: readToken },
    system: { data_dir: `${dir.path}/data`, builder_auth_token: nodeToken },
  });
  main = await serve(config);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await main?.stop();
  // A stopped process ignores SIGTERM until continued; SIGKILL ends it either way.
  await node?.kill();
  await node?.stop();
  await dir?.remove();
});

describe("the pool page", { timeout: 180_000 }, () => {
  it("shows a builder node going unhealthy when it hangs, with its error, and healthy again once it answers", async () => {
    const page = await browser.newPage();
    await signIn(page, `${main.url}/pool`, readToken);
    const row = page.locator(`tr[data-node="${node.url}"]`);
    await row.locator(".status", { hasText: /^healthy$/ }).waitFor({ timeout: 60_000 });
    assert.match(await row.innerText(), /healthy\s+0 \/ 2\s+0\s+0\s+—/);
    assert.match(await page.locator("body").innerText(), /Mode delegate/);
    await screenshot(page, "pool-healthy");

    assert.ok(node.child.kill("SIGSTOP"));
    try {
      // No reload: the page polls.
      await row.locator(".status", { hasText: /^unhealthy$/ }).waitFor({ timeout: 60_000 });
      const cells = await row.locator("td").allInnerTexts();
      assert.notEqual(cells[5], "—", `the node's last error is shown: ${JSON.stringify(cells)}`);
      await screenshot(page, "pool-unhealthy");
    } finally {
      node.child.kill("SIGCONT");
    }
    await row.locator(".status", { hasText: /^healthy$/ }).waitFor({ timeout: 60_000 });
    await page.close();
  });
});
