import { dirname, resolve } from "node:path";
import { parse, TomlError } from "smol-toml";
import { configSchema, sectionSpec, type SectionSpec } from "./config-schema.js";
import type { ConfigDiagnostic } from "./config-types.js";
import { checkTomlValue, keyInside } from "./config-values.js";
import { normalizePath, setEntry, type Entries, type Origin } from "./config-entries.js";
import { suggest } from "./suggest.js";
import { locateKeys, type Position } from "./toml-positions.js";

const sectionNames = configSchema.map((s) => s.name);

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

/**
 * Parses a TOML text into `entries`, reporting malformed TOML (with line and
 * column), unknown sections and keys (with a suggestion) and values of the
 * wrong type. Relative paths resolve against the file's folder.
 */
export function readToml(text: string, fileName: string, env: NodeJS.ProcessEnv, entries: Entries): ConfigDiagnostic[] {
  let doc: Table;
  try {
    doc = parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const first = (err.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
      return [{ file: fileName, line: err.line, column: err.column, key: "", message: `malformed toml: ${first.toLowerCase()}` }];
    }
    throw err;
  }
  const positions = locateKeys(text);
  const baseDir = dirname(resolve(fileName));
  const origin = (path: string): Origin => {
    const p: Position = positions.get(path) ?? { line: 0, column: 0 };
    return { file: fileName, line: p.line, column: p.column, baseDir };
  };
  const diag = (path: string, message: string): ConfigDiagnostic => {
    const o = origin(path);
    return { file: fileName, line: o.line, column: o.column, key: path, message };
  };
  /** A problem inside a value: at the most precise place the text shows (a table of an array, a field). */
  const diagInside = (path: string, at: readonly (string | number)[], message: string): ConfigDiagnostic => {
    let p: Position | undefined;
    for (let n = at.length; n >= 0 && !p; n--) p = positions.get([path, ...at.slice(0, n).map(String)].join("."));
    return { file: fileName, line: p?.line ?? 0, column: p?.column ?? 0, key: keyInside(path, at), message };
  };
  const out: ConfigDiagnostic[] = [];

  for (const [name, body] of Object.entries(doc)) {
    const spec = sectionSpec(name);
    if (!spec) {
      const near = suggest(name, sectionNames);
      const hint = near ? `did you mean [${near}]?` : `expected one of ${sectionNames.map((s) => `[${s}]`).join(", ")}`;
      out.push(diag(name, `unknown section [${name}]: ${hint}`));
      continue;
    }
    if (!isTable(body)) {
      out.push(diag(name, `expected a table [${name}], got a value`));
      continue;
    }
    if (spec.named) {
      for (const [entryName, entryBody] of Object.entries(body)) {
        const path = `${name}.${entryName}`;
        if (!isTable(entryBody)) {
          out.push(diag(path, `expected a table [${path}], got a value`));
          continue;
        }
        const keys = new Map();
        entries.gitAuth.set(entryName, { origin: origin(path), keys });
        readKeys(spec, path, entryBody, (key, value) => keys.set(key, { value, origin: origin(`${path}.${key}`) }));
      }
      continue;
    }
    readKeys(spec, name, body, (key, value) => setEntry(entries, name, key, { value, origin: origin(`${name}.${key}`) }));
  }
  return out;

  function readKeys(spec: SectionSpec, path: string, body: Table, set: (key: string, value: ReturnType<typeof normalizePath>) => void): void {
    const header = spec.named ? `[${spec.name}.<name>]` : `[${spec.name}]`;
    for (const [key, raw] of Object.entries(body)) {
      const keySpec = spec.keys.find((k) => k.key === key);
      if (!keySpec) {
        const names = spec.keys.map((k) => k.key);
        const near = suggest(key, names);
        const hint = near ? `did you mean "${near}"?` : `expected one of ${names.join(", ")}`;
        out.push(diag(`${path}.${key}`, `unknown key "${key}" in ${header}: ${hint}`));
        continue;
      }
      const checked = checkTomlValue(keySpec, raw);
      if ("error" in checked) {
        out.push(diagInside(`${path}.${key}`, checked.at ?? [], checked.error));
        continue;
      }
      set(key, normalizePath(keySpec, checked.value, baseDir, env));
    }
  }
}
