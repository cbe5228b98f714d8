import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "puppeteer-core";
import type { TestNode } from "../delegate/fixtures/start-node.js";
import { cliEnv, type CliProcess } from "../e2e/cli-process.js";
import { ensureBuilt } from "../helpers/ensure-built.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { launchFirefox, screenshotFirefox, textOf, waitForText, waitInPage } from "./firefox.js";
import { createCliBuilds, ensureWebBundle, failingContainerfile, newToken, serve, tickingContainerfile, writeToml } from "./web-fixture.js";

// The page's main flows in Debian's Firefox ESR, driven by puppeteer-core
// over WebDriver BiDi, against a real `buildplane serve` (command mode on the
// local Docker engine, pushing to the loopback registry) and real builds.

const marker = randomBytes(5).toString("hex");
const app = `ff-${marker}`;
const ticks = 15;
const readToken = newToken();
const buildToken = newToken();

let dir: TempDir;
let repo: TestGitRepo;
let server: TestNode;
let browser: Browser;
let page: Page;
const builds = createCliBuilds();

before(async () => {
  ensureBuilt();
  ensureWebBundle();
  dir = await tempDir("buildplane-web-ff-");
  repo = await makeGitRepo({
    "slow/Containerfile": tickingContainerfile(marker, ticks),
    "fail/Containerfile": failingContainerfile(marker),
  });
  const config = await writeToml(dir.path, "server", {
    http: { host: "127.0.0.1", port: 0, redirect_to_https: false },
    system: { data_dir: `${dir.path}/data`, container_command: "docker" },
    registry: { url: "127.0.0.1:5000", project: `web-ff-${marker}`, insecure: true },
    security: { read_token: readToken, build_token: buildToken },
    source: { local_roots: [repo.path] },
  });
  server = await serve(config);
  browser = await launchFirefox();
  page = await browser.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await builds.stop();
  await repo?.remove();
  await dir?.remove();
});

function build(folder: string): CliProcess {
  return builds.start(["build", repo.url, "--dir", folder, "--app", app, "--json", "--server", server.url], cliEnv(`${dir.path}/client`, { BUILDPLANE_TOKEN: buildToken }));
}

let slow: { cli: CliProcess; id: string } | undefined;

/** The log lines' texts on the page, in order. */
function logTexts(): Promise<string[]> {
  return page.$$eval(".log .line .text", (ls) => ls.map((l) => l.textContent ?? ""));
}

describe("the web page in Firefox", { timeout: 240_000 }, () => {
  it("shows only the token form until the server accepts a token, then lists a new build live", async () => {
    await page.goto(server.url);
    await page.waitForSelector("#token");
    await screenshotFirefox(page, "firefox-token-gate");
    assert.equal(await page.$('nav[aria-label="Main"]'), null, "no navigation before a token");
    assert.doesNotMatch(await textOf(page, "body"), /Builds|Pool/);
    await page.type("#token", "not-the-token");
    await page.keyboard.press("Enter");
    await waitForText(page, "The server refused the token (unauthenticated: invalid bearer token).");
    await page.type("#token", readToken);
    await page.keyboard.press("Enter");
    await page.waitForSelector('nav[aria-label="Main"]');
    await waitForText(page, "Builds", "h1");

    const cli = build("slow");
    const id = String((await cli.waitFor((e) => typeof e["buildId"] === "string" && e["buildId"] !== ""))["buildId"]);
    slow = { cli, id };
    // No reload: the list updates itself.
    await page.waitForSelector(`tr[data-build-id="${id}"]`, { timeout: 60_000 });
    await waitForText(page, "running", `tr[data-build-id="${id}"]`);
    assert.match(await textOf(page, `tr[data-build-id="${id}"]`), new RegExp(`${id}\\s+running\\s+${app}`));
  });

  it("follows a running build's log live, keeps it after a reload, and shows its spec and push time", async () => {
    assert.ok(slow, "the build of the first test");
    const { cli, id } = slow;
    await page.click(`a[href="/builds/${id}"]`);
    await waitForText(page, id, "h1");
    assert.equal(new URL(page.url()).pathname, `/builds/${id}`);
    await waitInPage(page, "a tick line", `[...document.querySelectorAll(".log .line .text")].some((l) => /^tick-\\d+-/.test(l.textContent))`, 120_000);
    const seen = (await logTexts()).filter((t) => t.startsWith("tick-")).length;
    assert.ok(seen < ticks, `the page shows the log before the build ends (${seen} of ${ticks} ticks)`);
    const logBox = 'JSON.stringify(document.querySelector(".log").getBoundingClientRect())';
    const box = await page.evaluate(logBox);
    await waitForText(page, `tick-${Math.min(seen + 2, ticks)}-${marker}`, ".log");
    assert.equal(await page.evaluate(logBox), box, "the log box keeps its place and size while lines stream");

    const done = await cli.done;
    assert.equal(done.last?.type, "ready", done.stderr);
    await waitForText(page, "succeeded", "h1");
    await waitForText(page, "lines, complete", ".log-state");
    const live = await logTexts();
    for (let i = 1; i <= ticks; i++) assert.ok(live.includes(`tick-${i}-${marker}`), `tick ${i} shown`);
    await screenshotFirefox(page, "firefox-build");
    await page.reload();
    await waitForText(page, "lines, complete", ".log-state");
    assert.deepEqual(await logTexts(), live, "the same lines after a reload");
    const spec = await textOf(page, ".spec");
    assert.match(spec, /Folder\s+slow/);
    assert.match(spec, /Containerfile\s+Containerfile/);
    assert.ok(spec.includes(String(done.last["digest"])), spec);
    // Pushed to the registry: the timeline gives the time of the push.
    assert.match(await textOf(page, ".timeline"), /Pushed\s+\d.*\n?.*Ready\s+\d/);
  });

  it("shows a failed build's error and failing step", async () => {
    const result = await build("fail").done;
    assert.equal(result.last?.type, "failed", result.stdout + result.stderr);
    const id = String(result.last["buildId"]);
    await page.goto(`${server.url}/builds/${id}`);
    await page.waitForSelector(".failure");
    await waitForText(page, "lines, complete", ".log-state");
    assert.ok((await textOf(page, ".failure")).includes(String(result.last["message"]).split("\n")[0] ?? "?"));
    assert.match(await textOf(page, ".failing-step"), new RegExp(`^Step 2/\\d+ : RUN echo "about-to-fail-${marker}"`));
    assert.equal(await page.$(".log img, .log script"), null, "markup in the log is text");
    await screenshotFirefox(page, "firefox-build-failed");
  });

  it("lists the app's image with its digest on the apps page and the builder on the pool page", async () => {
    assert.ok(slow);
    await page.click('a[href="/apps"]');
    await waitForText(page, app, "main");
    const row = await textOf(page, `article[aria-labelledby="app-${app}"] tbody tr`);
    const done = await slow.cli.done;
    assert.ok(row.includes(String(done.last?.["image"])) && row.includes(String(done.last?.["digest"])), row);
    await page.click(`article[aria-labelledby="app-${app}"] a[href="/builds/${slow.id}"]`);
    await waitForText(page, slow.id, "h1");

    await page.click('a[href="/pool"]');
    await waitForText(page, "Mode command", "main");
    await waitForText(page, "No build is running.", "main");
    await screenshotFirefox(page, "firefox-pool");
  });
});
