import { redacted, Secret } from "./secret.js";

/** Replaces known secret values in text by `***`. */
export interface LogScrubber {
  /** `text` with every known secret value (and its URL-encoded form) replaced by `***`. */
  scrub(text: string): string;
  /** How many distinct values are scrubbed (0: `scrub` returns its input). */
  readonly size: number;
}

/**
 * Values shorter than this are not scrubbed: replacing every "1" or "ab" in
 * a log would destroy it, and so short a secret protects nothing anyway.
 */
export const minScrubbedLength = 4;

/**
 * Creates a scrubber for `values` (plain strings or `Secret`s; empty and
 * undefined ones are ignored). A value spanning several lines (a PEM key)
 * is scrubbed line by line, as logs arrive in lines. Each value is also
 * matched URL-encoded, the form a password takes inside a repository URL.
 * Longer values are replaced first, so a value containing another is
 * replaced whole.
 */
export function createLogScrubber(values: Iterable<string | Secret | undefined>): LogScrubber {
  const known = new Set<string>();
  const add = (v: string): void => {
    if (v.length >= minScrubbedLength) known.add(v);
  };
  for (const value of values) {
    const text = value instanceof Secret ? value.unwrap() : value ?? "";
    for (const line of text.split(/\r?\n/)) {
      add(line.trim());
      add(encodeURIComponent(line.trim()));
    }
  }
  if (known.size === 0) return { scrub: (text) => text, size: 0 };
  const sorted = [...known].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(sorted.map(escapeRegExp).join("|"), "g");
  return { scrub: (text) => text.replace(pattern, redacted), size: known.size };
}

/**
 * Every `Secret` value inside `value` (objects, arrays, maps, walked deeply),
 * plus the password of a secret that is a URL (`postgres://u:p@h/db`), so a
 * whole resolved config can feed `createLogScrubber`.
 */
export function secretValuesIn(value: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<object>();
  const walk = (v: unknown): void => {
    if (v instanceof Secret) {
      const clear = v.unwrap();
      out.push(clear, ...urlPassword(clear));
      return;
    }
    if (v === null || typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    const children = v instanceof Map ? v.values() : Array.isArray(v) ? v : Object.values(v);
    for (const c of children) walk(c);
  };
  walk(value);
  return out.filter((s) => s !== "");
}

function urlPassword(text: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(text);
  const userinfo = m?.[1];
  if (userinfo === undefined) return [];
  const colon = userinfo.indexOf(":");
  if (colon < 0) return [];
  const raw = userinfo.slice(colon + 1);
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // not percent-encoded: keep as written
  }
  return [raw, decoded];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
