import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { lockSync } from "proper-lockfile";

const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** `bin/buildplane.js`, the command users run: it loads the bundled CLI in `dist/cli/`. */
export const cliPath = join(repoRoot, "bin/buildplane.js");

/** The folders `tsconfig.build.json` compiles, and what it leaves out. */
const sourceFolders = ["app", "bin", "libs", "services"];
const notCompiled = (rel: string): boolean => rel.endsWith(".test.ts") || rel === "libs/rpc/test-fixtures.ts" || rel === "libs/config/gen-docs.ts";

/**
 * The first source whose compiled file in `dist/` is missing or older than
 * it, or undefined when `dist/` is current.
 */
export function staleSource(root = repoRoot): string | undefined {
  const walk = (dir: string): string | undefined => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = walk(path);
        if (found) return found;
        continue;
      }
      const rel = relative(root, path);
      if (!entry.name.endsWith(".ts") || entry.name.endsWith(".d.ts") || notCompiled(rel)) continue;
      const compiled = statSync(join(root, "dist", rel.replace(/\.ts$/, ".js")), { throwIfNoEntry: false });
      if (!compiled || compiled.mtimeMs < statSync(path).mtimeMs) return rel;
    }
    return undefined;
  };
  for (const folder of sourceFolders) {
    const found = walk(join(root, folder));
    if (found) return found;
  }
  return undefined;
}

/**
 * Whether `dist/cli/` (bin/bundle.mjs) is missing or older than the last
 * compile, which rewrites every file of `dist/`.
 */
export function staleBundle(root = repoRoot): boolean {
  const bundle = statSync(join(root, "dist/cli/buildplane.js"), { throwIfNoEntry: false });
  const compiled = statSync(join(root, "dist/bin/buildplane.js"), { throwIfNoEntry: false });
  return !bundle || !compiled || bundle.mtimeMs < compiled.mtimeMs;
}

const stale = (): boolean => staleSource() !== undefined || staleBundle();

let built = false;

/**
 * Makes sure `dist/` holds the current sources compiled, so a test that
 * spawns `bin/buildplane.js` runs the code it tests: compiles
 * (`tsc -p tsconfig.build.json`, as `npm run build`) when a source is newer
 * than its output, and bundles `dist/cli/` again after a compile. Test files running side by side compile once: the
 * first holds a lock while the others wait, then find `dist/` current.
 * `npm test` compiles before any test starts, so there this only checks.
 */
export function ensureBuilt(): void {
  if (built || !stale()) {
    built = true;
    return;
  }
  const release = waitForLock();
  try {
    if (staleSource() !== undefined) {
      const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
      execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"] });
    }
    if (staleBundle()) execFileSync(process.execPath, [join(repoRoot, "bin/bundle.mjs")], { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"] });
    built = true;
  } finally {
    release();
  }
}

/** The build lock; a holder blocks its event loop while compiling, so staleness is judged generously. */
function waitForLock(): () => void {
  const options = { realpath: false, lockfilePath: join(repoRoot, "dist.lock"), stale: 10 * 60_000 };
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return lockSync(repoRoot, options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ELOCKED") throw err;
      Atomics.wait(pause, 0, 0, 250);
    }
  }
}
