import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");

/** The resolver's flow: domain code that must not load RPC code, not even through a shared helper. */
const flow = ["build-record.ts", "flight-run.ts", "follow-remote-build.ts", "lease-keep.ts", "lease-release.ts", "outage-budget.ts", "run-build.ts", "flow-errors.ts"];

/** The modules a file loads when it runs: its imports other than `import type`, as specifiers. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/gm)) {
    if (m[2]) continue; // import type / export type: erased at compile time
    out.push(m[3] ?? "");
  }
  for (const m of text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) out.push(m[1] ?? "");
  return out;
}

/** Every package `file` loads, directly or through the repository's own modules, with the chain that leads to it. */
function packagesLoadedBy(file: string): Map<string, string> {
  const found = new Map<string, string>();
  const seen = new Set<string>();
  const walk = (path: string, chain: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const spec of runtimeImports(path)) {
      if (spec.startsWith("node:")) continue;
      if (spec.startsWith(".")) {
        const target = resolve(dirname(path), spec.replace(/\.js$/, ".ts"));
        walk(target, `${chain} → ${relative(root, target)}`);
      } else if (!found.has(spec)) {
        found.set(spec, `${chain} → ${spec}`);
      }
    }
  };
  walk(file, relative(root, file));
  return found;
}

test("the resolver's flow loads no RPC library, directly or through what it imports", () => {
  for (const name of flow) {
    const loaded = packagesLoadedBy(join(here, name));
    const rpc = [...loaded].filter(([pkg]) => pkg.startsWith("@connectrpc/") || pkg.startsWith("@grpc/"));
    assert.deepEqual(rpc.map(([, chain]) => chain), [], `${name} loads RPC code`);
  }
});

test("the check sees an RPC import through a shared module", () => {
  // wire-in.ts is the resolver's edge: it must be seen loading connect, or the check above proves nothing.
  const loaded = packagesLoadedBy(join(here, "wire-in.ts"));
  assert.ok(loaded.has("@connectrpc/connect"), "wire-in.ts imports @connectrpc/connect");
  const helper = packagesLoadedBy(join(root, "libs/rpc/errors.ts"));
  assert.ok([...helper.keys()].some((p) => p.startsWith("@connectrpc/")), "libs/rpc/errors.ts loads connect");
});
