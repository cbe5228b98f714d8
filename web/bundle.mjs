// Bundles the web page (web/main.tsx and its styles) into dist/web/ with
// esbuild: content-hashed files under assets/ and an index.html naming them.
// Run by `npm run build`; nothing is fetched at run time.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist/web");

await rm(out, { recursive: true, force: true });
await mkdir(join(out, "assets"), { recursive: true });
const result = await esbuild.build({
  entryPoints: [join(root, "web/main.tsx")],
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome120", "firefox120"],
  jsx: "automatic",
  jsxImportSource: "preact",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});
const files = Object.keys(result.metafile.outputs).map((f) => basename(f));
const script = files.find((f) => f.endsWith(".js"));
const style = files.find((f) => f.endsWith(".css"));
if (!script || !style) throw new Error(`web bundle is missing its script or style: ${files.join(", ")}`);
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>buildplane</title>
<link rel="stylesheet" href="/assets/${style}">
<script type="module" src="/assets/${script}"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`;
await writeFile(join(out, "index.html"), html);
process.stdout.write(`web page bundled into ${relative(root, out)}: ${files.join(", ")}\n`);
