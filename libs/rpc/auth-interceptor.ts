import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Secret } from "../secret/secret.js";

/** Services any caller may use without a token: probes and tooling. */
export const openServiceNames: readonly string[] = [
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

export interface BearerAuthOptions {
  /** The token callers must send as `Authorization: Bearer <token>`. */
  readonly token: Secret;
  /** Fully qualified service names left open; defaults to health and reflection. */
  readonly openServices?: readonly string[];
}

/**
 * Rejects calls without the configured bearer token with `Unauthenticated`.
 * Tokens are compared as sha256 digests with `timingSafeEqual`, so neither
 * their content nor their length leaks through timing, and the token sent is
 * never echoed in the error.
 */
export function createBearerAuthInterceptor(options: BearerAuthOptions): Interceptor {
  const expected = digest(options.token.unwrap());
  const open = new Set(options.openServices ?? openServiceNames);
  return (next) => async (req) => {
    if (open.has(req.service.typeName)) return next(req);
    const presented = bearerToken(req.header.get("authorization"));
    if (presented === undefined) throw new ConnectError("missing bearer token", Code.Unauthenticated);
    if (!timingSafeEqual(digest(presented), expected)) {
      throw new ConnectError("invalid bearer token", Code.Unauthenticated);
    }
    return next(req);
  };
}

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

function bearerToken(header: string | null): string | undefined {
  if (header === null) return undefined;
  const match = /^bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
