/** A 1-based position in a text. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

const bare = /^[A-Za-z0-9_-]+/;

/**
 * Finds where each table and key is written in a TOML text, because the
 * parser returns values only and every diagnostic must name a line. Returns
 * dotted paths (`builder.mode`, `git_auth.corp`, `builder`) mapped to the
 * first place they appear; the tables of an array are numbered
 * (`kubernetes.tolerations.1.effect`). It reads headers and `key =` lines and skips
 * multi-line strings; it is only called on text the parser accepted.
 */
export function locateKeys(text: string): Map<string, Position> {
  const found = new Map<string, Position>();
  const note = (path: readonly string[], pos: Position): void => {
    for (let i = 1; i <= path.length; i++) {
      const p = path.slice(0, i).join(".");
      if (!found.has(p)) found.set(p, pos);
    }
  };
  let table: string[] = [];
  /** How many `[[path]]` tables were seen so far, by path: the next one's index. */
  const arrayCounts = new Map<string, number>();
  let inMultiline: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (inMultiline !== undefined) {
      if (raw.includes(inMultiline)) inMultiline = undefined;
      return;
    }
    const indent = raw.length - raw.trimStart().length;
    const body = raw.trimStart();
    if (body.startsWith("[")) {
      const array = body.startsWith("[[");
      const parsed = readKeyPath(body.slice(array ? 2 : 1));
      if (parsed) {
        table = parsed.path;
        if (array) {
          const joined = table.join(".");
          const index = arrayCounts.get(joined) ?? 0;
          arrayCounts.set(joined, index + 1);
          table = [...table, String(index)];
        }
        note(table, { line, column: indent + 1 });
      }
      return;
    }
    const parsed = readKeyPath(body);
    if (!parsed || !parsed.rest.trimStart().startsWith("=")) return;
    note([...table, ...parsed.path], { line, column: indent + 1 });
    const value = parsed.rest.trimStart().slice(1).trimStart();
    for (const q of ['"""', "'''"]) {
      if (value.startsWith(q) && !value.slice(3).includes(q)) inMultiline = q;
    }
  });
  return found;
}

/** Reads `a."b c".d` from the start of `s`; returns the parts and what follows. */
function readKeyPath(s: string): { path: string[]; rest: string } | undefined {
  const path: string[] = [];
  let rest = s;
  for (;;) {
    rest = rest.trimStart();
    let part: string | undefined;
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      const end = rest.indexOf(quote, 1);
      if (end < 0) return undefined;
      part = rest.slice(1, end);
      rest = rest.slice(end + 1);
    } else {
      const m = bare.exec(rest);
      if (!m) return undefined;
      part = m[0];
      rest = rest.slice(part.length);
    }
    path.push(part);
    rest = rest.trimStart();
    if (!rest.startsWith(".")) return { path, rest };
    rest = rest.slice(1);
  }
}
