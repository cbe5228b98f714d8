import { isScope, scopeNames, splitScopes } from "../rpc/scope-names.js";
import type { KeyValue, ValueProblem } from "./config-schema.js";

/**
 * Checks `[https] client_scopes`: each value a comma-separated list of known
 * scopes, so a typo is reported at load with its line instead of as a
 * `permission_denied` at the first call.
 */
export function checkScopeMap(value: KeyValue): ValueProblem | undefined {
  if (typeof value !== "object" || Array.isArray(value)) return undefined;
  for (const [identity, text] of Object.entries(value as Readonly<Record<string, string>>)) {
    const scopes = splitScopes(text);
    if (scopes.length === 0) return { message: `"" is not valid: expected one or more of ${scopeNames.join(", ")}`, at: [identity] };
    const bad = scopes.find((s) => !isScope(s));
    if (bad !== undefined) return { message: `scope ${JSON.stringify(bad)} is not valid: expected ${scopeNames.join(", ")}`, at: [identity] };
  }
  return undefined;
}
