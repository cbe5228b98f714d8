import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";

/**
 * Who called, as the edge guard found it from the credential: the
 * credential's name (`the build token`, `client certificate "ci"`), never
 * the token. `anonymous` on a port without credentials.
 */
export const callerKey = createContextKey<string>("anonymous");

const callers = new WeakMap<object, string>();

/** Remembers the caller of a request the edge guard let through. */
export function rememberCaller(req: object, who: string): void {
  callers.set(req, who);
}

/** The context values of a request for the RPC handlers: its caller. */
export function callerContextValues(req: object): ContextValues {
  const values = createContextValues();
  const who = callers.get(req);
  if (who !== undefined) values.set(callerKey, who);
  return values;
}
