// Preloaded with `node --import <this file>` by tests that check what a
// process loads: appends the URL of every ES module it resolves, and at
// exit the path of every CommonJS module and, as `builtin:<id>`, every one of
// Node's own modules (internal ones included), one a line, to the file named by
// MODULE_RECORDER_FILE. Plain JavaScript, so no TypeScript loader is needed
// to use it.
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";

const file = process.env.MODULE_RECORDER_FILE;
if (!file) throw new Error("MODULE_RECORDER_FILE is not set: expected the file to record loaded modules in");

const hooks = `
import { appendFileSync } from "node:fs";
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(file, resolved.url + "\\n");
  return resolved;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { file } });

const cache = createRequire(import.meta.url).cache;
const builtins = () => process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => `builtin:${m.slice("NativeModule ".length)}`);
process.on("exit", () => appendFileSync(file, [...Object.keys(cache), ...builtins()].map((p) => `${p}\n`).join("")));
