/**
 * The scopes a credential may carry. Kept apart from the RPC table so the
 * config library can check `[https] client_scopes` without importing RPC code.
 */
export const scopeNames = ["read", "build", "admin", "node", "internal"] as const;

/** One scope: what a credential lets its holder call (see `rpc-scopes.ts`). */
export type Scope = (typeof scopeNames)[number];

/** True when `s` names a scope. */
export function isScope(s: string): s is Scope {
  return (scopeNames as readonly string[]).includes(s);
}

/** `"build, read"` → `["build", "read"]`; empty items dropped, order kept. */
export function splitScopes(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}
