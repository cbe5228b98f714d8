#!/usr/bin/env node
// Entry point for `npx buildplane`: runs the compiled, bundled CLI in
// dist/cli/, which `npm ci` (the prepare script) and `npm run build`
// produce. No TypeScript loader runs here. Node's compile cache (Node 22.1+)
// keeps the compiled code between runs.
import { existsSync } from "node:fs";
import module from "node:module";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/cli/buildplane.js", import.meta.url);
if (existsSync(fileURLToPath(entry))) {
  module.enableCompileCache?.();
  await import(entry.href);
} else {
  const root = fileURLToPath(new URL("..", import.meta.url));
  process.stderr.write(`buildplane: ${fileURLToPath(entry)} does not exist: run \`npm run build\` (or \`npm ci\`) in ${root} first\n`);
  process.exitCode = 1;
}
