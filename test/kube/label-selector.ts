/**
 * Kubernetes label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`,
 * `a notin (x)`), as the API server reads `?labelSelector=`.
 */
export function matchesSelector(selector: string | null, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (selector === null || selector.trim() === "") return true;
  const l = labels ?? {};
  for (const term of splitTerms(selector)) {
    const t = term.trim();
    let m: RegExpMatchArray | null;
    if ((m = t.match(/^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$/)) !== null) {
      const [, key = "", op, vals = ""] = m;
      const set = vals.split(",").map((v) => v.trim());
      const has = key in l && set.includes(l[key] ?? "");
      if (op === "in" ? !has : has) return false;
    } else if ((m = t.match(/^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/)) !== null) {
      const [, key = "", op, val = ""] = m;
      const eq = l[key] === val;
      if (op === "!=" ? eq : !eq) return false;
    } else if (t.startsWith("!")) {
      if (t.slice(1) in l) return false;
    } else if (!(t in l)) {
      return false;
    }
  }
  return true;
}

function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) { out.push(cur); cur = ""; } else cur += ch;
  }
  out.push(cur);
  return out;
}
