import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { renderConfigDocs } from "./config-docs.js";
import { configSchema, envName } from "./config-schema.js";

test("docs/configuration.md is the text generated from the schema (run `npx tsx libs/config/gen-docs.ts`)", () => {
  const committed = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
  assert.equal(committed, renderConfigDocs());
});

test("the docs list every key with its environment variable", () => {
  const docs = renderConfigDocs();
  for (const section of configSchema) {
    for (const k of section.keys) {
      assert.ok(docs.includes(`| \`${k.key}\` |`), `${section.name}.${k.key} is documented`);
      if (!section.named) assert.ok(docs.includes(envName(section.name, k.key)), `${envName(section.name, k.key)} is documented`);
    }
  }
});
