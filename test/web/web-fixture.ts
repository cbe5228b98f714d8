import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { cliEnv, repoRoot } from "../helpers/buildplane-cli.js";
import { startServe, type TestNode } from "../delegate/fixtures/start-node.js";
import { removeImages, removeImagesOfBuilds } from "../e2e/app-fixture.js";
import { startCli, type CliProcess } from "../e2e/cli-process.js";

/** A fresh random token. */
export function newToken(): string {
  return `web-${randomBytes(12).toString("hex")}`;
}

/** `key = value` lines of one TOML table. */
export type TomlTable = Readonly<Record<string, string | number | boolean | readonly string[]>>;

/** Writes a config of `tables` to `<dir>/<name>.toml` (mode 0600: it holds tokens) and returns its path. */
export async function writeToml(dir: string, name: string, tables: Readonly<Record<string, TomlTable>>): Promise<string> {
  const text = Object.entries(tables)
    .map(([table, keys]) => [`[${table}]`, ...Object.entries(keys).map(([k, v]) => `${k} = ${JSON.stringify(v)}`)].join("\n"))
    .join("\n\n");
  const file = join(dir, `${name}.toml`);
  await writeFile(file, `${text}\n`, { mode: 0o600 });
  return file;
}

/** Starts `buildplane serve --config file` on loopback (port from the file, 0 = any). */
export function serve(config: string): Promise<TestNode> {
  return startServe(config, cliEnv());
}

/**
 * Opens `url` in `page`, which must show the token form, signs in with
 * `token` and waits for the page's navigation to appear.
 */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

/**
 * The Containerfile of a build that prints `bulk` numbered lines at once,
 * then `ticks` more a second apart: its log grows while the test watches.
 */
export function tickingContainerfile(marker: string, ticks: number, bulk = 0): string {
  return `FROM local/busybox:1
RUN echo "start-${marker}" && i=1 && while [ $i -le ${bulk} ]; do echo "bulk-$i-${marker}"; i=$((i+1)); done && i=1 && while [ $i -le ${ticks} ]; do echo "tick-$i-${marker}"; sleep 1; i=$((i+1)); done && echo "end-${marker}"
`;
}

/** Markup a build prints into its log: the page must show it as text, never run it. */
export const hostileLogLine = `<img src=x onerror="document.title=1"><script>document.title=2</script>`;

/** The Containerfile of a build that prints `hostileLogLine` and fails in its second step, with exit code 3. */
export function failingContainerfile(marker: string): string {
  return `FROM local/busybox:1
RUN echo "about-to-fail-${marker}" && echo '${hostileLogLine}' && exit 3
`;
}

/**
 * Makes sure `dist/web` holds the page bundled from the current `web/`
 * sources (as `npm run build` does), bundling it when a source is newer.
 */
export function ensureWebBundle(): void {
  const index = statSync(join(repoRoot, "dist/web/index.html"), { throwIfNoEntry: false });
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
  if (index && index.mtimeMs >= newest(join(repoRoot, "web"))) return;
  execFileSync(process.execPath, [join(repoRoot, "web/bundle.mjs")], { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"] });
}

/**
 * The `buildplane build` processes a test file starts: `start` runs one,
 * `stop` kills those still running and removes the images they made.
 */
export interface CliBuilds {
  start(args: readonly string[], env: NodeJS.ProcessEnv): CliProcess;
  stop(): Promise<void>;
}

export function createCliBuilds(): CliBuilds {
  const images = new Set<string>();
  const buildIds = new Set<string>();
  const clis: CliProcess[] = [];
  return {
    start(args, env) {
      const cli = startCli(args, env);
      clis.push(cli);
      void cli.done.then((r) => {
        if (r.last?.type === "ready") images.add(String(r.last["image"]));
        for (const e of r.events) if (typeof e["buildId"] === "string") buildIds.add(e["buildId"]);
      });
      return cli;
    },
    async stop() {
      for (const c of clis) c.child.kill("SIGKILL");
      await Promise.all(clis.map((c) => c.done));
      // A build whose process was killed may still have made its image on the server: found by its build-id label.
      await removeImages("docker", images);
      await removeImagesOfBuilds("docker", buildIds);
    },
  };
}
