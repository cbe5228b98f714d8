import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { repoRoot } from "../helpers/buildplane-cli.js";

/** Every source file the shipped program is compiled from. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "gen" ? [] : sources(path);
    return /\.(ts|tsx|mjs|js)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [path] : [];
  });
}

describe("runtime dependencies", () => {
  test("each one in package.json is imported by the program, and each package the program imports is declared", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const files = ["app", "bin", "libs", "services", "web"].flatMap((d) => sources(join(repoRoot, d)));
    const imported = new Map<string, string>();
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/(?:from\s+|import\(\s*|require\(\s*)["']([^"']+)["']/g)) {
        const specifier = m[1] ?? "";
        if (specifier.startsWith(".") || specifier.startsWith("node:")) continue;
        const name = specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
        imported.set(name, relative(repoRoot, file));
      }
    }
    // Generated code (libs/gen) imports @bufbuild/protobuf, which the program imports too.
    const unused = Object.keys(pkg.dependencies).filter((d) => !imported.has(d));
    assert.deepEqual(unused, [], "dependencies nothing imports");
    const known = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies ?? {})]);
    const undeclared = [...imported].filter(([name]) => !known.has(name)).map(([name, file]) => `${name} (${file})`);
    assert.deepEqual(undeclared, [], "packages imported without being declared");
  });
});
