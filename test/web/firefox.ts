import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** Debian's firefox-esr (`test/deps.d/firefox.sh` installs it). */
export const firefoxPath = "/usr/bin/firefox-esr";

/**
 * Starts a headless Firefox through puppeteer-core over WebDriver BiDi (the
 * W3C protocol Firefox speaks natively), on a new temporary profile that
 * puppeteer removes on close.
 */
export function launchFirefox(): Promise<Browser> {
  return puppeteer.launch({
    browser: "firefox",
    executablePath: firefoxPath,
    headless: true,
    protocol: "webDriverBiDi",
    defaultViewport: { width: 1280, height: 800 },
    extraPrefsFirefox: {
      // Nothing from the internet: no updates, telemetry or safe-browsing lists.
      "app.update.enabled": false,
      "datareporting.policy.dataSubmissionEnabled": false,
      "browser.safebrowsing.update.enabled": false,
      "network.captive-portal-service.enabled": false,
    },
  });
}

/**
 * Waits until `expression` (JavaScript run in the page) is true; `what`
 * names it in the timeout error, which also carries the page's text.
 */
export async function waitInPage(page: Page, what: string, expression: string, timeoutMs = 60_000): Promise<void> {
  try {
    await page.waitForFunction(expression, { timeout: timeoutMs, polling: 200 });
  } catch (err) {
    const body = await page.evaluate("document.body.innerText").catch(() => "(page gone)");
    throw new Error(`waiting for ${what}: ${(err as Error).message}\npage text:\n${String(body).slice(0, 2000)}`);
  }
}

/** Waits until the text of `selector` (default the body) contains `text`. */
export function waitForText(page: Page, text: string, selector = "body", timeoutMs = 60_000): Promise<void> {
  const expr = `(document.querySelector(${JSON.stringify(selector)})?.innerText ?? "").includes(${JSON.stringify(text)})`;
  return waitInPage(page, `"${text}" in ${selector}`, expr, timeoutMs);
}

/** The inner text of the first element matching `selector`. */
export async function textOf(page: Page, selector: string): Promise<string> {
  return String(await page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.innerText ?? ""`));
}

/** Saves a full-page screenshot as `<name>.png` into `$WEB_SCREENSHOTS_DIR` when it is set. */
export async function screenshotFirefox(page: Page, name: string): Promise<void> {
  const dir = process.env["WEB_SCREENSHOTS_DIR"];
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) as `${string}.png`, fullPage: true });
}
