// Bundles the compiled CLI (dist/bin/buildplane.js and everything it
// imports, from dist/ and from node_modules) into dist/cli/ with esbuild:
// one entry file and shared chunks, so a command reads a few files instead
// of a thousand modules, and what a command imports lazily (`import()`)
// stays in chunks it loads only when it runs. Run by `npm run build` after
// tsc. dist/cli/meta.json records which inputs each output holds.
//
// Left outside the bundle, loaded from node_modules as they are: native
// modules and the packages that load them (better-sqlite3, docker-modem with
// ssh2 and cpu-features, pg with its optional pg-native), packages that start
// workers or load files by path (pino), and the large ones only some
// commands load (the Kubernetes client, the AWS SDK, the OpenTelemetry SDK
// and exporters, zod through require).
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist/cli");

/** Packages loaded from node_modules at run time instead of bundled. */
export const external = [
  "better-sqlite3", "docker-modem", "ssh2", "cpu-features", "pg", "pg-native",
  "pino", "zod", "@kubernetes/client-node", "@aws-sdk/*",
  "@opentelemetry/sdk-*", "@opentelemetry/exporter-*", "@opentelemetry/resources", "@opentelemetry/context-async-hooks",
];

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: [join(root, "dist/bin/buildplane.js")],
  outdir: out,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  external,
  // CommonJS packages in the bundle call require() for Node's own modules.
  banner: { js: 'import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);' },
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});
await writeFile(join(out, "meta.json"), JSON.stringify(result.metafile));
