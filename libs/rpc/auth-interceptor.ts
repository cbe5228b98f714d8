import type { Interceptor } from "@connectrpc/connect";
import type { Secret } from "../secret/secret.js";

/**
 * A client interceptor adding `Authorization: Bearer <token>` to every call;
 * the one place a service token is unwrapped on the client side.
 */
export function createBearerTokenInterceptor(token: Secret): Interceptor {
  return (next) => async (req) => {
    req.header.set("authorization", `Bearer ${token.unwrap()}`);
    return next(req);
  };
}
