import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Page } from "playwright-core";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import type { TestNode } from "../delegate/fixtures/start-node.js";
import { cliEnv, runCli, type CliEvent, type CliProcess } from "../e2e/cli-process.js";
import { ensureBuilt } from "../helpers/ensure-built.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { launchBrowser, screenshot, type TestBrowser } from "./browser.js";
import { createCliBuilds, ensureWebBundle, failingContainerfile, hostileLogLine, newToken, serve, signIn, tickingContainerfile, writeToml } from "./web-fixture.js";

// The page against a real `buildplane serve` (command mode on the local
// Docker engine, SQLite) with a read and an admin token, real builds made by
// the CLI through the same server, in headless Chromium.

const marker = randomBytes(5).toString("hex");
const app = `web-${marker}`;
const ticks = 20;
/** Lines printed at once before the ticks: more than the page draws in one run (500). */
const bulk = 1200;
const readToken = newToken();
const servicesToken = newToken();
/** The value of a secret build arg: never on any page. */
const secretArg = `web-secret-${randomBytes(6).toString("hex")}`;
const adminToken = newToken();

let dir: TempDir;
let repo: TestGitRepo;
let server: TestNode;
let browser: TestBrowser;
const builds = createCliBuilds();

before(async () => {
  ensureBuilt();
  ensureWebBundle();
  dir = await tempDir("buildplane-web-");
  repo = await makeGitRepo({
    "slow/Containerfile": tickingContainerfile(marker, ticks, bulk),
    "fail/Containerfile": failingContainerfile(marker),
    "cancel/Containerfile": tickingContainerfile(`cancel-${marker}`, 120),
    "queue1/Containerfile": `FROM local/busybox:1\nRUN echo queued-1-${marker}\n`,
    "queue2/Containerfile": `FROM local/busybox:1\nRUN echo queued-2-${marker}\n`,
  });
  const config = await writeToml(dir.path, "server", {
    http: { host: "127.0.0.1", port: 0, redirect_to_https: false },
    system: { data_dir: `${dir.path}/data`, container_command: "docker" },
    security: { read_token: readToken, admin_token: adminToken },
    services: { token: servicesToken },
    source: { local_roots: [repo.path] },
  });
  server = await serve(config);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await builds.stop();
  await repo?.remove();
  await dir?.remove();
});

/** `buildplane build <repo> --dir <folder> --json --server <url> [extra…]` with the admin token. */
function build(folder: string, extra: readonly string[] = []): CliProcess {
  return builds.start(
    ["build", repo.url, "--dir", folder, "--app", app, "--json", "--server", server.url, ...extra],
    cliEnv(`${dir.path}/client`, { BUILDPLANE_TOKEN: adminToken }),
  );
}

let slow: { cli: CliProcess; id: Promise<string> } | undefined;
/** The ticking build, started once and shared by the tests that watch it run. */
function slowBuild(): { cli: CliProcess; id: Promise<string> } {
  if (!slow) {
    const cli = build("slow", ["--arg", "WEB_MODE=fast"]);
    slow = { cli, id: cli.waitFor((e: CliEvent) => typeof e["buildId"] === "string" && e["buildId"] !== "").then((e) => String(e["buildId"])) };
  }
  return slow;
}

/** The metadata API as split services call it (the services token): to write records the CLI cannot make. */
function internalMetadata() {
  return createClient(
    MetadataService,
    createConnectTransport({
      baseUrl: server.url,
      httpVersion: "1.1",
      interceptors: [(next) => (req) => (req.header.set("Authorization", `Bearer ${servicesToken}`), next(req))],
    }),
  );
}

async function adminPage(path: string): Promise<Page> {
  const page = await browser.newPage();
  await signIn(page, `${server.url}${path}`, adminToken);
  return page;
}

/** The texts of the log lines the page shows, in order. */
function logTexts(page: Page): Promise<string[]> {
  return page.locator(".log .line .text").allTextContents();
}

describe("the web page", { timeout: 300_000 }, () => {
  it("shows nothing but the token form until the server accepts a token, and keeps the token for the tab only", async () => {
    const page = await browser.newPage();
    const answers: Array<{ path: string; status: number }> = [];
    page.on("response", (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith("/buildplane.v1.")) answers.push({ path, status: r.status() });
    });
    await page.goto(server.url);
    await page.getByLabel("Token").waitFor();
    await screenshot(page, "token-gate");
    const body = await page.locator("body").innerText();
    assert.match(body, /This server needs a token/);
    assert.doesNotMatch(body, /Builds|Pool|b_[0-9a-z]{26}/, "nothing but the form before a token");
    assert.equal(await page.getByRole("navigation", { name: "Main" }).count(), 0);
    assert.ok(answers.length > 0 && answers.every((a) => a.status === 401), `every API call refused: ${JSON.stringify(answers)}`);

    await page.getByLabel("Token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The server refused the token (unauthenticated: invalid bearer token).").waitFor();
    assert.equal(await page.getByRole("navigation", { name: "Main" }).count(), 0);
    assert.equal(await page.evaluate("sessionStorage.getItem('buildplane.token')"), null, "a refused token is not kept");

    await page.getByLabel("Token").fill(readToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Builds" }).waitFor();
    assert.equal(await page.evaluate("sessionStorage.getItem('buildplane.token')"), readToken);
    await page.reload();
    await page.getByRole("heading", { name: "Builds" }).waitFor();

    // Another tab has its own sessionStorage: the gate again.
    const other = await browser.newPage();
    await other.goto(server.url);
    await other.getByLabel("Token").waitFor();
    assert.equal(await other.getByRole("navigation", { name: "Main" }).count(), 0);
    await other.close();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Token").waitFor();
    assert.equal(await page.evaluate("sessionStorage.getItem('buildplane.token')"), null);
    await page.close();
  });

  it("lists a new build as soon as it starts, with live status, and is reachable by keyboard", async () => {
    const page = await adminPage("/");
    await page.getByRole("heading", { name: "Builds" }).waitFor();
    const { id: idPromise } = slowBuild();
    const id = await idPromise;
    // No reload: the list updates itself.
    const row = page.locator(`tr[data-build-id="${id}"]`);
    await row.waitFor({ timeout: 60_000 });
    assert.match(await row.innerText(), new RegExp(`${id}\\s+(queued|running)\\s+${app}`));
    await row.getByText("running").waitFor({ timeout: 60_000 });
    assert.match(await row.innerText(), /command/, "the mode is shown");
    await screenshot(page, "builds-list");
    // 200 % zoom of a 1280-pixel window is 640 CSS pixels: the table scrolls inside its box, the page does not.
    await page.setViewportSize({ width: 640, height: 400 });
    assert.equal(await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"), 0, "no horizontal scrolling at 200 %");
    await screenshot(page, "builds-list-zoom-200");
    await page.setViewportSize({ width: 1280, height: 800 });

    // Tab through the page: the skip link, the navigation, the filters, the build's link.
    const reached: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press("Tab");
      reached.push(String(await page.evaluate("document.activeElement ? (document.activeElement.getAttribute('aria-label') || document.activeElement.textContent || document.activeElement.getAttribute('name') || '').trim() : ''")));
    }
    for (const expected of ["Skip to content", "Builds", "Apps", "Pool", "Sign out", "app", "Filter", id]) {
      assert.ok(reached.includes(expected), `Tab reaches ${expected}: ${JSON.stringify(reached)}`);
    }
    await page.close();
  });

  it("shows the log lines of a running build as they arrive, without moving the page, and all of them after a reload", async () => {
    const { id: idPromise, cli } = slowBuild();
    const id = await idPromise;
    const page = await adminPage(`/builds/${id}`);
    // A line of the build arrives while the page is open and the build still runs.
    await page.locator(".log .line .text", { hasText: /^tick-\d+-/ }).first().waitFor({ timeout: 120_000 });
    const firstSeen = (await logTexts(page)).filter((t) => t.startsWith("tick-")).length;
    assert.ok(firstSeen < ticks, `the page shows the log before the build ends (${firstSeen} of ${ticks} ticks)`);
    assert.equal(await page.locator("h1 .status").innerText(), "running");
    const logBox = await page.locator(".log").boundingBox();
    const stateBox = await page.locator(".log-state").boundingBox();
    // A later line, shown without a reload.
    await page.getByText(`tick-${Math.min(firstSeen + 3, ticks)}-${marker}`, { exact: true }).waitFor({ timeout: 60_000 });
    assert.deepEqual(await page.locator(".log").boundingBox(), logBox, "the log box keeps its place and size while lines stream");
    assert.deepEqual(await page.locator(".log-state").boundingBox(), stateBox, "what follows the log does not move");
    await screenshot(page, "build-running");

    const result = await cli.done;
    assert.equal(result.last?.type, "ready", result.stderr);
    await page.locator("h1 .status", { hasText: "succeeded" }).waitFor({ timeout: 30_000 });
    await page.getByText(/lines, complete$/).waitFor({ timeout: 30_000 });
    const live = await logTexts(page);
    for (let i = 1; i <= ticks; i++) assert.ok(live.includes(`tick-${i}-${marker}`), `tick ${i} shown live`);
    assert.deepEqual(live.filter((t) => t.startsWith("bulk-")), Array.from({ length: bulk }, (_, i) => `bulk-${i + 1}-${marker}`));
    const seqs = await page.locator(".log .line").evaluateAll((ls) => ls.map((l) => Number(l.getAttribute("data-seq"))));
    assert.deepEqual(seqs, Array.from({ length: live.length }, (_, i) => i + 1), "every line once, in order, from 1");

    await page.reload();
    await page.getByText(/lines, complete$/).waitFor({ timeout: 30_000 });
    assert.deepEqual(await logTexts(page), live, "the same lines after a reload");
    assert.match(await page.locator(".spec").innerText(), new RegExp(`Repository\\s+${repo.url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    const spec = await page.locator(".spec").innerText();
    assert.match(spec, /Folder\s+slow/);
    assert.match(spec, /Containerfile\s+Containerfile\n/);
    assert.match(spec, /Target\s+last stage/);
    assert.equal(await page.locator('.args li[data-arg="WEB_MODE"]').innerText(), "WEB_MODE=fast");
    const timeline = await page.locator(".timeline").innerText();
    assert.match(timeline, /Queued\s+\S+.*\n.*Started\s+\S/);
    assert.match(timeline, /Pushed\s+no registry: kept in the local engine/);
    assert.match(timeline, /Ready\s+\d/);

    // 200 % zoom of a 1280-pixel window: 640 CSS pixels, nothing wider than the window.
    await page.setViewportSize({ width: 640, height: 400 });
    assert.equal(await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"), 0, "no horizontal scrolling at 200 %");
    await screenshot(page, "build-zoom-200");
    await page.close();
  });

  it("shows a failed build's error and failing step, and the status filter finds it", async () => {
    const result = await build("fail").done;
    assert.equal(result.last?.type, "failed", result.stdout + result.stderr);
    const id = String(result.last["buildId"]);
    const shown = await runCli(["builds", "show", id, "--json", "--server", server.url], cliEnv(`${dir.path}/client`, { BUILDPLANE_TOKEN: readToken }));
    const record = JSON.parse(shown.stdout) as { errorCode: string; errorMessage: string };
    assert.notEqual(record.errorMessage, "");

    const page = await adminPage(`/builds/${id}`);
    const failure = page.locator(".failure");
    await failure.waitFor({ timeout: 30_000 });
    const text = await failure.innerText();
    assert.ok(text.includes(`${record.errorCode}: ${record.errorMessage}`), `the record's error is shown: ${text}`);
    await page.getByText(/lines, complete$/).waitFor({ timeout: 30_000 });
    assert.match(await page.locator(".failing-step").innerText(), new RegExp(`^Step 2/\\d+ : RUN echo "about-to-fail-${marker}" && echo '.*' && exit 3$`));
    const texts = await logTexts(page);
    assert.ok(texts.includes(`about-to-fail-${marker}`));
    // Markup in a log line is text: shown as written, no element made, nothing run.
    assert.ok(texts.includes(hostileLogLine), JSON.stringify(texts));
    assert.equal(await page.locator(".log img, .log script").count(), 0);
    assert.equal(await page.title(), "buildplane");
    assert.match(await page.locator(".timeline").innerText(), /Pushed\s+—\s+Failed\s+\d/);
    await screenshot(page, "build-failed");

    await page.goto(`${server.url}/?status=failed&app=${app}`);
    await page.locator(`tr[data-build-id="${id}"]`).waitFor();
    assert.equal(await page.locator("tbody tr").count(), 1, "only the failed build of this app");
    await page.close();
  });

  it("pages through the builds of an app newest first, 25 at a time", async () => {
    const pageApp = `paged-${marker}`;
    const metadata = internalMetadata();
    const ids: string[] = [];
    for (let i = 0; i < 27; i++) {
      const { build: b } = await metadata.createBuild({ build: { appId: pageApp, imageKey: `paged-${marker}-${i}`, image: `cli-${pageApp}:${i}` } });
      ids.push(b?.id ?? "");
      await metadata.updateBuild({ id: b?.id ?? "", status: BuildStatus.FAILED, errorCode: "internal", errorMessage: "written by the test" });
    }
    const newestFirst = [...ids].reverse();
    const page = await adminPage(`/?app=${pageApp}`);
    const shownIds = (): Promise<string[]> => page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-build-id") ?? ""));
    await page.locator(`tr[data-build-id="${newestFirst[0]}"]`).waitFor();
    assert.deepEqual(await shownIds(), newestFirst.slice(0, 25));
    assert.ok(await page.getByRole("button", { name: "Newer" }).isDisabled());
    await page.getByRole("button", { name: "Older" }).click();
    await page.locator(`tr[data-build-id="${newestFirst[25]}"]`).waitFor();
    assert.deepEqual(await shownIds(), newestFirst.slice(25));
    assert.ok(await page.getByRole("button", { name: "Older" }).isDisabled());
    await page.getByRole("button", { name: "Newer" }).click();
    await page.locator(`tr[data-build-id="${newestFirst[0]}"]`).waitFor();
    assert.equal((await shownIds()).length, 25);
    await page.close();
  });

  it("shows a build's secret arg as *** and its value nowhere", async () => {
    // The command mode refuses secret args (the engine would keep them in the
    // image history), so the record is written as a split resolver writes
    // one: CreateBuild with the services token, secret value included.
    const metadata = internalMetadata();
    const { build: record } = await metadata.createBuild({
      build: {
        appId: app,
        imageKey: `secret-${marker}`,
        containerfile: "ops/Containerfile",
        target: "runtime",
        platform: "linux/arm64",
        source: { repository: "https://git.example.com/acme/shop.git", ref: "v1" },
        args: [
          { name: "VERSION", value: "1.2" },
          { name: "NPM_TOKEN", value: secretArg, secret: true },
        ],
      },
    });
    const id = record?.id ?? "";
    const page = await adminPage(`/builds/${id}`);
    await page.locator('.args li[data-arg="NPM_TOKEN"]').waitFor();
    assert.equal(await page.locator('.args li[data-arg="NPM_TOKEN"]').innerText(), "NPM_TOKEN=***");
    assert.equal(await page.locator('.args li[data-arg="VERSION"]').innerText(), "VERSION=1.2");
    const spec = await page.locator(".spec").innerText();
    assert.match(spec, /Containerfile\s+ops\/Containerfile\s+Target\s+runtime\s+Platform\s+linux\/arm64/);
    assert.ok(!(await page.content()).includes(secretArg), "the secret value is nowhere on the page");
    await metadata.updateBuild({ id, status: BuildStatus.FAILED, errorCode: "internal", errorMessage: "written by the test" });
    await page.close();
  });

  it("lists each app's images newest first with digests and build links", async () => {
    const { id: idPromise, cli } = slowBuild();
    const id = await idPromise;
    const done = await cli.done;
    assert.equal(done.last?.type, "ready");
    const page = await adminPage("/apps");
    const section = page.locator("article", { has: page.getByRole("heading", { name: app }) });
    await section.waitFor();
    // The table is a labelled region the keyboard can focus and scroll, as on every page.
    const region = section.getByRole("region", { name: `Images of ${app} (scrolls sideways on narrow screens)` });
    assert.equal(await region.getAttribute("tabindex"), "0");
    const row = region.locator("tbody tr");
    assert.equal(await row.count(), 1);
    const text = await row.innerText();
    assert.ok(text.includes(String(done.last["image"])), text);
    if (String(done.last["digest"]) !== "") assert.ok(text.includes(String(done.last["digest"])), text);
    await row.getByRole("link", { name: id }).click();
    await page.waitForURL(`${server.url}/builds/${id}`);
    await page.getByRole("heading", { name: new RegExp(`Build ${id}`) }).waitFor();
    await page.goBack();
    await section.waitFor();
    await screenshot(page, "apps");
    await page.close();
  });

  it("shows the queue with positions behind a running build, lets the admin token cancel it from the pool page, and shows the read token no cancel button", async () => {
    const cli = build("cancel");
    const id = String((await cli.waitFor((e) => e.type === "started"))["buildId"]);
    await cli.waitFor((e) => e.type === "log" && String(e["text"]).startsWith("tick-1-"));
    // One build slot (the default): these two wait behind it, in this order.
    const queued: string[] = [];
    const queuedClis: CliProcess[] = [];
    for (const folder of ["queue1", "queue2"]) {
      const q = build(folder);
      queuedClis.push(q);
      queued.push(String((await q.waitFor((e) => typeof e["buildId"] === "string" && e["buildId"] !== ""))["buildId"]));
    }

    const reader = await browser.newPage();
    const probed = reader.waitForResponse((r) => r.url().endsWith("/buildplane.v1.BuilderService/CancelBuild"), { timeout: 60_000 });
    await signIn(reader, `${server.url}/pool`, readToken);
    assert.equal((await probed).status(), 403, "the server refuses CancelBuild to the read token");
    await reader.locator("tr", { has: reader.getByRole("link", { name: id }) }).waitFor({ timeout: 30_000 });
    assert.equal(await reader.getByRole("button", { name: `Cancel build ${id}` }).count(), 0);
    await reader.close();

    const page = await adminPage("/pool");
    const row = page.locator("tr", { has: page.getByRole("link", { name: id }) });
    await row.waitFor({ timeout: 30_000 });
    for (const [i, q] of queued.entries()) {
      const queueRow = page.locator("tr", { has: page.getByRole("link", { name: q }) });
      await queueRow.waitFor({ timeout: 30_000 });
      assert.match(await queueRow.innerText(), new RegExp(`^${i + 1}\\s+${q}\\s+${app}`), `queue position ${i + 1}`);
    }
    await page.getByText(/1 of 1 build slots in use, 2 waiting/).waitFor({ timeout: 30_000 });
    for (const [name, rowId] of [["Queue", queued[0]], ["Running builds", id]] as const) {
      const region = page.getByRole("region", { name: `${name} (scrolls sideways on narrow screens)` });
      assert.equal(await region.getAttribute("tabindex"), "0", `${name}: the keyboard can focus and scroll it`);
      assert.equal(await region.getByRole("link", { name: rowId }).count(), 1, `${name} lists ${rowId}`);
    }
    await screenshot(page, "pool-running");
    await row.getByRole("button", { name: `Cancel build ${id}` }).click();
    const result = await cli.done;
    assert.equal(result.last?.type, "failed", result.stdout);
    assert.equal(result.last["code"], "canceled");
    await page.goto(`${server.url}/builds/${id}`);
    await page.locator("h1 .status", { hasText: "canceled" }).waitFor({ timeout: 30_000 });

    // The two waiting builds run once the slot is free; the app's images are then listed newest first.
    const images: string[] = [];
    for (const q of queuedClis) {
      const r = await q.done;
      assert.equal(r.last?.type, "ready", r.stdout + r.stderr);
      images.push(String(r.last["image"]));
    }
    const slowImage = String((await slowBuild().cli.done).last?.["image"]);
    await page.goto(`${server.url}/apps`);
    const section = page.locator("article", { has: page.getByRole("heading", { name: app }) });
    await section.locator("tbody tr").nth(2).waitFor({ timeout: 30_000 });
    const rows = await section.locator("tbody tr td:first-child").allInnerTexts();
    assert.deepEqual(rows, [images[1], images[0], slowImage], "newest first");
    await page.close();
  });
});
