import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { sectionSpec, type KeySpec, type KeyValue } from "./config-schema.js";
import type { ConfigDiagnostic } from "./config-types.js";

/** Where a value came from: a file position, or an environment variable (line 0). */
export interface Origin {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Folder relative paths in this value are resolved against. */
  readonly baseDir: string;
  /** A default computed from the environment (`KUBECONFIG`), not a value the user set for this key. */
  readonly implicit?: boolean;
}

export interface Entry {
  readonly value: KeyValue;
  readonly origin: Origin;
}

/** The values set by the file and the environment, before defaults. */
export interface Entries {
  /** section → key → entry, for the plain sections. */
  readonly sections: Map<string, Map<string, Entry>>;
  /** `[git_auth.<name>]` → its origin and keys. */
  readonly gitAuth: Map<string, { readonly origin: Origin; readonly keys: Map<string, Entry> }>;
}

/** Empty entries. */
export function createEntries(): Entries {
  return { sections: new Map(), gitAuth: new Map() };
}

/** Records `section.key`, replacing an earlier value (the environment wins over the file). */
export function setEntry(entries: Entries, section: string, key: string, entry: Entry): void {
  let keys = entries.sections.get(section);
  if (!keys) entries.sections.set(section, (keys = new Map()));
  keys.set(key, entry);
}

/** The entry set for `section.key`, if any. */
export function getEntry(entries: Entries, section: string, key: string): Entry | undefined {
  return entries.sections.get(section)?.get(key);
}

/** The value of `section.key`: the one set, else the schema default. */
export function valueOf(entries: Entries, section: string, key: string): KeyValue {
  const set = getEntry(entries, section, key);
  if (set) return set.value;
  const spec = sectionSpec(section)?.keys.find((k) => k.key === key);
  if (!spec) throw new RangeError(`no config key ${section}.${key}`);
  return spec.default;
}

/** A diagnostic at an origin (or at the file start when the value is a default). */
export function diagnosticAt(origin: Origin | undefined, fallbackFile: string, key: string, message: string): ConfigDiagnostic {
  return origin
    ? { file: origin.file, line: origin.line, column: origin.column, key, message }
    : { file: fallbackFile, line: 0, column: 0, key, message };
}

/** `~` and relative paths made absolute, for path keys only. */
export function normalizePath(spec: KeySpec, value: KeyValue, baseDir: string, env: NodeJS.ProcessEnv): KeyValue {
  if (!(spec.readableFile || spec.path) || typeof value !== "string" || value === "") return value;
  return expandPath(value, baseDir, env);
}

/** Expands a leading `~` with HOME and resolves the rest against `baseDir`. */
export function expandPath(p: string, baseDir: string, env: NodeJS.ProcessEnv): string {
  const home = env["HOME"] || homedir();
  const expanded = p === "~" ? home : p.startsWith("~/") ? `${home}${p.slice(1)}` : p;
  return isAbsolute(expanded) ? expanded : resolve(baseDir, expanded);
}
