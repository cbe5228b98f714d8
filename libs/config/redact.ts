import { Secret, redacted } from "../secret/secret.js";
import { configSchema } from "./config-schema.js";
import type { ResolvedConfig } from "./config-types.js";

/**
 * A database URL with its password replaced by `***`, so the rest (host,
 * database) can still be shown: `postgres://app:***@db:5432/bp`. Any
 * `scheme://user:password@` is redacted, also in URLs that are not valid.
 * The password runs to the last `@`: one written with `@`, `/` or `:`
 * unencoded is hidden whole (at worst the host is hidden with it), and a
 * `password=` query parameter is hidden too.
 */
export function redactDbConnection(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^]*@/i, `$1${redacted}@`)
    .replace(/([?&]password=)[^&#]*/gi, `$1${redacted}`);
}

/** A plain TOML-like value of the redacted view. */
export type PlainValue = string | number | boolean | Readonly<Record<string, string>> | readonly Readonly<Record<string, string | number>>[] | readonly string[];

/** The redacted view: section → key → value, `[git_auth.<name>]` nested under `git_auth`. */
export type RedactedTable = Record<string, Record<string, PlainValue | Record<string, PlainValue>>>;

const camel = (s: string): string => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The effective configuration as TOML keys and values with every secret
 * shown as `***` (a postgres URL keeps all but its password), for
 * `buildplane config show`. Keys accepted only for compatibility are left
 * out: nothing reads them.
 */
export function redactedTable(config: ResolvedConfig): RedactedTable {
  const out: RedactedTable = {};
  const view = config as unknown as Record<string, Record<string, unknown>>;
  for (const section of configSchema) {
    const keys = section.keys.filter((k) => !k.unused && !k.aliasOf);
    if (section.named) {
      const named: Record<string, Record<string, PlainValue>> = {};
      for (const [name, entry] of Object.entries(config.gitAuth)) {
        const e = entry as unknown as Record<string, unknown>;
        named[name] = Object.fromEntries(keys.map((k) => [k.key, plain(e[camel(k.key)])]));
      }
      out[section.name] = named;
      continue;
    }
    const values = view[camel(section.name)] ?? {};
    out[section.name] = Object.fromEntries(
      keys.map((k) => {
        const field = section.name === "builder" && k.key === "mode" ? "modeText" : camel(k.key);
        const v = values[field];
        return [k.key, k.key === "db_connection" && v instanceof Secret ? redactDbConnection(v.unwrap()) : plain(v)];
      }),
    );
  }
  return out;
}

function plain(v: unknown): PlainValue {
  if (v === undefined) return "";
  if (v instanceof Secret) return v.isEmpty ? "" : redacted;
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (Array.isArray(v) && v.every((item) => typeof item === "string")) return v as string[];
  if (Array.isArray(v)) {
    // Tables of an array (tolerations) with their TOML key names; unset fields left out.
    return v.map((item: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(item).filter(([, x]) => x !== undefined).map(([k, x]) => [snake(k), typeof x === "number" ? x : String(x)])),
    );
  }
  if (typeof v === "object" && v !== null) {
    // Maps; a map of lists (`[https] client_scopes`) shown as it is written, comma-separated.
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, Array.isArray(x) ? x.join(",") : String(x)]));
  }
  return String(v);
}
