import { parse } from "smol-toml";
import type { KeySpec, KeyValue, TableItem } from "./config-schema.js";
import { suggest } from "./suggest.js";

/**
 * A typed value, or the reason the input is not one; `at` says where inside
 * the value the problem is (`[0, "operator"]` for a field of the first table).
 */
export type Checked = { readonly value: KeyValue } | { readonly error: string; readonly at?: readonly (string | number)[] };

const expected: Record<KeySpec["type"], string> = {
  string: "a string",
  secret: "a string",
  bool: "true or false",
  int: "an integer",
  list: "an array of strings",
  map: "a table of strings",
  tables: "an array of tables",
};

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** How an offending value reads in a message; secrets are never shown. */
export function describeValue(spec: KeySpec, raw: unknown): string {
  return spec.type === "secret" ? "the value" : describeRaw(raw);
}

function describeRaw(raw: unknown): string {
  if (typeof raw === "string") return JSON.stringify(raw);
  if (typeof raw === "number" || typeof raw === "boolean" || typeof raw === "bigint") return String(raw);
  if (raw instanceof Date) return "a date";
  if (Array.isArray(raw)) return "an array";
  return "a table";
}

/** `A, B or C`, with the empty string shown as `""`. */
export function listChoices(choices: readonly string[]): string {
  const shown = choices.map((c) => (c === "" ? '""' : c));
  return shown.length <= 1 ? shown.join("") : `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1] ?? ""}`;
}

/** Checks a value the TOML parser produced against the key's type, bounds, allowed values and own check. */
export function checkTomlValue(spec: KeySpec, raw: unknown): Checked {
  const typed = checkType(spec, raw);
  if ("error" in typed || !spec.check) return typed;
  const problem = spec.check(typed.value);
  return problem ? { error: problem.message, at: problem.at } : typed;
}

function checkType(spec: KeySpec, raw: unknown): Checked {
  const bad = (): Checked => ({ error: `${describeValue(spec, raw)} is not valid: expected ${expected[spec.type]}` });
  switch (spec.type) {
    case "string":
    case "secret":
      if (typeof raw !== "string") return bad();
      if (spec.oneOf && !spec.oneOf.includes(raw)) return { error: `${describeValue(spec, raw)} is not valid: expected ${listChoices(spec.oneOf)}` };
      return { value: raw };
    case "bool":
      return typeof raw === "boolean" ? { value: raw } : bad();
    case "int":
      if (typeof raw !== "number" || !Number.isInteger(raw)) return bad();
      return checkBounds(spec, raw);
    case "list": {
      if (!Array.isArray(raw) || !raw.every((v): v is string => typeof v === "string")) return bad();
      return { value: [...raw] };
    }
    case "map": {
      if (!isTable(raw)) return bad();
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== "string") return bad();
        out[k] = v;
      }
      return { value: out };
    }
    case "tables": {
      if (!Array.isArray(raw)) return bad();
      const items: TableItem[] = [];
      for (const [i, item] of raw.entries()) {
        const checked = checkItem(spec.items ?? [], item);
        if ("error" in checked) return { error: checked.error, at: [i, ...(checked.at ?? [])] };
        items.push(checked.item);
      }
      return { value: items };
    }
  }
}

/** One table of a `tables` key: known fields only, each of its own type. */
function checkItem(fields: readonly KeySpec[], raw: unknown): { readonly item: TableItem } | Exclude<Checked, { value: KeyValue }> {
  if (!isTable(raw)) return { error: `${describeRaw(raw)} is not valid: expected a table` };
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(raw)) {
    const field = fields.find((f) => f.key === k);
    if (!field) {
      const names = fields.map((f) => f.key);
      const near = suggest(k, names);
      return { error: `unknown key ${JSON.stringify(k)}: ${near ? `did you mean "${near}"?` : `expected one of ${names.join(", ")}`}`, at: [k] };
    }
    const checked = checkTomlValue(field, v);
    if ("error" in checked) return { error: checked.error, at: [k, ...(checked.at ?? [])] };
    if (typeof checked.value === "string" || typeof checked.value === "number") out[k] = checked.value;
  }
  return { item: out };
}

/**
 * Reads an environment variable's text as the key's type: integers in
 * decimal, booleans as true/false, lists comma-separated (or a TOML inline
 * array), tables as a TOML inline table, arrays of
 * tables as a TOML inline array (`[{ key = "k", operator = "Exists" }]`).
 */
export function checkEnvValue(spec: KeySpec, text: string): Checked {
  const bad = (): Checked => ({ error: `${describeValue(spec, text)} is not valid: expected ${expected[spec.type]}` });
  switch (spec.type) {
    case "string":
    case "secret":
      return checkTomlValue(spec, text);
    case "bool": {
      const t = text.trim().toLowerCase();
      return t === "true" ? checkTomlValue(spec, true) : t === "false" ? checkTomlValue(spec, false) : bad();
    }
    case "int":
      return /^\s*-?\d+\s*$/.test(text) ? checkTomlValue(spec, Number(text)) : bad();
    case "list": {
      const t = text.trim();
      if (t.startsWith("[")) return checkTomlValue(spec, parseInline(t) ?? {});
      return checkTomlValue(spec, t === "" ? [] : t.split(",").map((v) => v.trim()).filter((v) => v !== ""));
    }
    case "map":
    case "tables": {
      let parsed: unknown;
      try {
        parsed = parse(`v = ${text}`)["v"];
      } catch {
        return bad();
      }
      return checkTomlValue(spec, parsed);
    }
  }
}

function parseInline(text: string): unknown {
  try {
    return parse(`v = ${text}`)["v"];
  } catch {
    return undefined;
  }
}

function checkBounds(spec: KeySpec, n: number): Checked {
  const min = spec.min ?? Number.MIN_SAFE_INTEGER;
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  if (n >= min && n <= max && Number.isSafeInteger(n)) return { value: n };
  const range = spec.max !== undefined && spec.max <= 65535 ? `from ${min} to ${max}` : `of at least ${min}`;
  return { error: `${n} is not valid: expected an integer ${range}` };
}

/**
 * The dotted key of a place inside a value, as diagnostics name it:
 * `kubernetes.tolerations[0].operator`, `kubernetes.node_selector."kubernetes.io/arch"`.
 */
export function keyInside(key: string, at: readonly (string | number)[] = []): string {
  return at.reduce<string>((k, part) => (typeof part === "number" ? `${k}[${part}]` : /^[A-Za-z0-9_-]+$/.test(part) ? `${k}.${part}` : `${k}.${JSON.stringify(part)}`), key);
}
