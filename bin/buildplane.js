#!/usr/bin/env node
// Entry point for `npx buildplane`: runs the compiled CLI in dist/, which
// `npm ci` (the prepare script) and `npm run build` produce. No TypeScript
// loader runs here.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/bin/buildplane.js", import.meta.url);
if (existsSync(fileURLToPath(entry))) {
  await import(entry.href);
} else {
  const root = fileURLToPath(new URL("..", import.meta.url));
  process.stderr.write(`buildplane: ${fileURLToPath(entry)} does not exist: run \`npm run build\` (or \`npm ci\`) in ${root} first\n`);
  process.exitCode = 1;
}
