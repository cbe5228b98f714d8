import { existsSync, readFileSync } from "node:fs";

/**
 * The package version, read once from the nearest package.json above this
 * module: the repository's from `bin/commands/` and from the compiled
 * `dist/bin/commands/` alike.
 */
export const version: string = (JSON.parse(readFileSync(nearestPackageJson(new URL(".", import.meta.url)), "utf8")) as { version: string }).version;

function nearestPackageJson(dir: URL): URL {
  for (let at = dir; ; at = new URL("..", at)) {
    const candidate = new URL("package.json", at);
    if (existsSync(candidate)) return candidate;
    if (at.pathname === "/") throw new Error(`no package.json above ${dir.pathname}: expected the buildplane package`);
  }
}
