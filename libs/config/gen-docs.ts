/**
 * Writes docs/configuration.md from the config schema:
 * `npx tsx libs/config/gen-docs.ts`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderConfigDocs } from "./config-docs.js";

const target = fileURLToPath(new URL("../../docs/configuration.md", import.meta.url));
mkdirSync(fileURLToPath(new URL("../../docs/", import.meta.url)), { recursive: true });
writeFileSync(target, renderConfigDocs());
process.stdout.write(`wrote ${target}\n`);
