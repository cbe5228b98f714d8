import { parse } from "smol-toml";
import type { KeySpec, KeyValue } from "./config-schema.js";

/** A typed value, or the reason the input is not one. */
export type Checked = { readonly value: KeyValue } | { readonly error: string };

const expected: Record<KeySpec["type"], string> = {
  string: "a string",
  secret: "a string",
  bool: "true or false",
  int: "an integer",
  map: "a table of strings",
};

/** How an offending value reads in a message; secrets are never shown. */
export function describeValue(spec: KeySpec, raw: unknown): string {
  if (spec.type === "secret") return "the value";
  if (typeof raw === "string") return JSON.stringify(raw);
  if (typeof raw === "number" || typeof raw === "boolean" || typeof raw === "bigint") return String(raw);
  if (raw instanceof Date) return "a date";
  if (Array.isArray(raw)) return "an array";
  return "a table";
}

/** Checks a value the TOML parser produced against the key's type and bounds. */
export function checkTomlValue(spec: KeySpec, raw: unknown): Checked {
  const bad = (): Checked => ({ error: `${describeValue(spec, raw)} is not valid: expected ${expected[spec.type]}` });
  switch (spec.type) {
    case "string":
    case "secret":
      return typeof raw === "string" ? { value: raw } : bad();
    case "bool":
      return typeof raw === "boolean" ? { value: raw } : bad();
    case "int":
      if (typeof raw !== "number" || !Number.isInteger(raw)) return bad();
      return checkBounds(spec, raw);
    case "map": {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw) || raw instanceof Date) return bad();
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== "string") return bad();
        out[k] = v;
      }
      return { value: out };
    }
  }
}

/**
 * Reads an environment variable's text as the key's type: integers in
 * decimal, booleans as true/false, tables as a TOML inline table.
 */
export function checkEnvValue(spec: KeySpec, text: string): Checked {
  const bad = (): Checked => ({ error: `${describeValue(spec, text)} is not valid: expected ${expected[spec.type]}` });
  switch (spec.type) {
    case "string":
    case "secret":
      return { value: text };
    case "bool": {
      const t = text.trim().toLowerCase();
      return t === "true" ? { value: true } : t === "false" ? { value: false } : bad();
    }
    case "int":
      return /^\s*-?\d+\s*$/.test(text) ? checkBounds(spec, Number(text)) : bad();
    case "map":
      try {
        return checkTomlValue(spec, parse(`v = ${text}`)["v"]);
      } catch {
        return bad();
      }
  }
}

function checkBounds(spec: KeySpec, n: number): Checked {
  const min = spec.min ?? Number.MIN_SAFE_INTEGER;
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  if (n >= min && n <= max && Number.isSafeInteger(n)) return { value: n };
  const range = spec.max !== undefined && spec.max <= 65535 ? `from ${min} to ${max}` : `of at least ${min}`;
  return { error: `${n} is not valid: expected an integer ${range}` };
}
