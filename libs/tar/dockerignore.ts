import { posix } from "node:path";
import ignore, { type Ignore } from "ignore";

/**
 * Reads a .dockerignore the way Docker does (moby/patternmatcher): `#`
 * starts a comment only at the start of a line, lines are trimmed, `!`
 * marks an exception, patterns are cleaned (`./a/` → `a`) and a leading `/`
 * is dropped. Returns the rules in file order, exceptions prefixed with `!`.
 */
export function parseDockerignore(text: string): string[] {
  const rules: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith("#")) continue;
    let pattern = line.trim();
    if (pattern === "") continue;
    const invert = pattern.startsWith("!");
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern !== "") {
      pattern = posix.normalize(pattern);
      if (pattern.length > 1 && pattern.endsWith("/")) pattern = pattern.slice(0, -1);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
    }
    rules.push(invert ? `!${pattern}` : pattern);
  }
  return rules;
}

/** Decides which context paths .dockerignore leaves out. */
export interface DockerignoreMatcher {
  /** True when `path` (relative, "/"-separated) is excluded. */
  ignores(path: string): boolean;
}

/**
 * Applies rules with Docker's semantics rather than gitignore's: patterns
 * are anchored at the context root (`*.log` does not match `a/b.log`), the
 * last matching rule wins, a rule matching a parent folder matches the path,
 * and `!` exceptions can re-include a file inside an excluded folder (which
 * gitignore cannot). Each single pattern is matched by the `ignore` package
 * anchored with a leading `/`, which gives glob, `**` and parent matching.
 */
export function createDockerignoreMatcher(rules: readonly string[]): DockerignoreMatcher {
  const patterns: { exclusion: boolean; matcher: Ignore }[] = [];
  for (const rule of rules) {
    const exclusion = rule.startsWith("!");
    const body = exclusion ? rule.slice(1) : rule;
    if (body === "" || body === ".") continue;
    patterns.push({ exclusion, matcher: ignore({ allowRelativePaths: true }).add(`/${body}`) });
  }
  return {
    ignores(path) {
      let matched = false;
      for (const p of patterns) {
        // A rule can only flip the current answer: skip the ones that cannot.
        if (p.exclusion !== matched) continue;
        if (p.matcher.ignores(path)) matched = !p.exclusion;
      }
      return matched;
    },
  };
}
