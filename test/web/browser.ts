import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";

/** Debian's chromium (`test/deps.d/chromium.sh` installs it). */
export const chromiumPath = "/usr/bin/chromium";

const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A headless Chromium with a new, empty profile; each `newPage()` is its own tab (its own sessionStorage). */
export interface TestBrowser {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Starts Chromium through playwright-core on a fresh user-data-dir under the
 * temp folder (removed on close), at 1280×800 CSS pixels unless `viewport` says otherwise.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile: TempDir = await tempDir("buildplane-web-profile-");
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
      viewport: { width: 1280, height: 800 },
    });
  } catch (err) {
    await profile.remove();
    throw err;
  }
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close().catch(() => undefined);
      await profile.remove();
    },
  };
}

/**
 * Saves a full-page screenshot as `<name>.png` into `$WEB_SCREENSHOTS_DIR`
 * when it is set (the pictures are for people reviewing the page; no test
 * asserts on them).
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env["WEB_SCREENSHOTS_DIR"];
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
