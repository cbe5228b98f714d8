import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

interface BundleMeta {
  readonly outputs: Readonly<Record<string, { readonly inputs: Readonly<Record<string, unknown>> }>>;
}

/** The npm package a module path or URL belongs to, if any. */
export function packageOf(module: string): string | undefined {
  return /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(module)?.[1];
}

/** What a process loaded, with the CLI bundle's files seen through. */
export interface LoadedModules {
  /**
   * Every module: ES module URLs and CommonJS paths as recorded, except that
   * a loaded file of `dist/cli/` stands for the sources bundled into it
   * (`dist/cli/meta.json`), as file URLs under the repository.
   */
  readonly modules: readonly string[];
  /** The npm packages among them, by name. */
  readonly packages: ReadonlySet<string>;
}

/**
 * Expands what `test/helpers/module-recorder.mjs` recorded: the CLI runs from
 * a bundle, so the packages and sources a command loaded are the inputs of
 * the bundle files it read, plus what it loaded from node_modules directly.
 */
export function loadedModules(recorded: readonly string[], root = repoRoot): LoadedModules {
  const rootUrl = pathToFileURL(`${root}/`).href;
  const meta = JSON.parse(readFileSync(`${root}/dist/cli/meta.json`, "utf8")) as BundleMeta;
  const inputs = new Map(Object.entries(meta.outputs).map(([out, o]) => [new URL(out, rootUrl).href, Object.keys(o.inputs).map((i) => new URL(i, rootUrl).href)]));
  const modules = [...new Set(recorded.flatMap((m) => inputs.get(m) ?? [m]))].filter((m) => m !== "");
  return { modules, packages: new Set(modules.flatMap((m) => packageOf(m) ?? [])) };
}
