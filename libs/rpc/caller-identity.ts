import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";
import type { Scope } from "./scope-names.js";

/**
 * Who called, as the edge guard found it from the credential: the
 * credential's name (`the build token`, `client certificate "ci"`), never
 * the token. `anonymous` on a port without credentials.
 */
export const callerKey = createContextKey<string>("anonymous");

/** The scopes the caller's credential carries; none on a port without credentials. */
export const callerScopesKey = createContextKey<ReadonlySet<Scope>>(new Set());

const callers = new WeakMap<object, { who: string; scopes: ReadonlySet<Scope> }>();

/** Remembers the caller of a request the edge guard let through, and the scopes of its credential. */
export function rememberCaller(req: object, who: string, scopes: ReadonlySet<Scope> = new Set()): void {
  callers.set(req, { who, scopes });
}

/** The context values of a request for the RPC handlers: its caller and the caller's scopes. */
export function callerContextValues(req: object): ContextValues {
  const values = createContextValues();
  const caller = callers.get(req);
  if (caller !== undefined) {
    values.set(callerKey, caller.who);
    values.set(callerScopesKey, caller.scopes);
  }
  return values;
}
