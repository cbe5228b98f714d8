// Bundles the compiled CLI (dist/bin/buildplane.js and everything it
// imports, from dist/ and from node_modules) into dist/cli/ with esbuild:
// one entry file and shared chunks, so a command reads a few files instead
// of a thousand modules, and what a command imports lazily (`import()`)
// stays in chunks it loads only when it runs. Run by `npm run build` after
// tsc. dist/cli/meta.json records which inputs each output holds.
//
// Left outside the bundle, loaded from node_modules as they are: native
// modules and the packages that load them (better-sqlite3, ssh2 with
// cpu-features, pg with its optional pg-native), packages that start
// workers or load files by path (pino), and the large ones only some
// commands load (the Kubernetes client, the AWS SDK, the OpenTelemetry SDK
// and exporters, zod through require).
import { builtinModules } from "node:module";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist/cli");

/** Packages loaded from node_modules at run time instead of bundled. */
export const external = [
  "better-sqlite3", "ssh2", "cpu-features", "pg", "pg-native",
  "pino", "zod", "@kubernetes/client-node", "@aws-sdk/*",
  "@opentelemetry/sdk-*", "@opentelemetry/exporter-*", "@opentelemetry/resources", "@opentelemetry/context-async-hooks",
];

/**
 * Node's own modules reached through `require()` instead of `import`. An
 * `import` of a built-in module makes Node read every export of it at once,
 * getters included: on Node 22+ the `WebSocket`, `CloseEvent` and
 * `MessageEvent` getters of `node:http` load all of undici, `node:tls`
 * reads every root certificate, `node:process` opens stdin. A `require()`
 * leaves them untouched until used (esbuild reads the named imports off the
 * module object where they are used). `node:module` stays an import: the
 * banner below needs it to make `require`.
 */
const builtinsThroughRequire = {
  name: "builtins-through-require",
  setup(build) {
    const builtins = new Set(builtinModules.filter((name) => name !== "module"));
    build.onResolve({ filter: /^(node:)?[a-z_][a-z0-9_/]*$/ }, (args) => {
      const name = args.path.replace(/^node:/, "");
      if (args.kind === "require-call" || !builtins.has(name)) return undefined;
      return { path: name, namespace: "builtin-require" };
    });
    build.onLoad({ filter: /.*/, namespace: "builtin-require" }, (args) => ({ contents: `module.exports = require("node:${args.path}");`, loader: "js" }));
  },
};

/**
 * docker-modem requires ssh2 (and its crypto set-up) when it loads, for the
 * `ssh://` engine endpoints buildplane never uses: its `./ssh` module is
 * required on the first call instead. The build fails if the line it
 * rewrites is gone, so a docker-modem upgrade is checked here.
 */
const dockerModemWithoutSsh = {
  name: "docker-modem-without-ssh",
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]docker-modem[\\/]lib[\\/]modem\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const eager = "ssh = require('./ssh'),";
      if (!source.includes(eager)) throw new Error(`${args.path}: "${eager}" not found: check how this docker-modem loads ssh2`);
      return { contents: source.replace(eager, "ssh = function (opt) { return require('./ssh')(opt); },"), loader: "js" };
    });
  },
};

// Written beside dist/cli/ and swapped in, so a CLI starting meanwhile
// (tests running side by side) finds the old bundle or the new one, whole.
const next = `${out}.next-${process.pid}`;
const old = `${out}.old-${process.pid}`;
await rm(next, { recursive: true, force: true });
await mkdir(next, { recursive: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: [join(root, "dist/bin/buildplane.js")],
  outdir: next,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  external,
  plugins: [builtinsThroughRequire, dockerModemWithoutSsh],
  // Where bundled code names the global `Headers`, it gets this class: Node's
  // own loads all of undici on first use (see libs/rpc/fetch-headers.ts).
  inject: [join(root, "dist/libs/rpc/fetch-headers.js")],
  // CommonJS packages in the bundle call require() for Node's own modules.
  banner: { js: 'import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);' },
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});
const rel = (path) => path.replace(/^dist\/cli\.next-\d+\//, "dist/cli/");
const outputs = Object.fromEntries(Object.entries(result.metafile.outputs).map(([path, output]) => [rel(path), output]));
await writeFile(join(next, "meta.json"), JSON.stringify({ ...result.metafile, outputs }));
await rename(out, old).catch((err) => { if (err.code !== "ENOENT") throw err; });
await rename(next, out);
await rm(old, { recursive: true, force: true });
