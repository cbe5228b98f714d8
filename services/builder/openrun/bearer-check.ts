import { createHash, timingSafeEqual } from "node:crypto";
import { DomainError } from "../../../libs/errors/domain-error.js";
import type { Secret } from "../../../libs/secret/secret.js";

/** A delegate request without the right bearer token; the token sent is never echoed. */
export class DelegateAuthError extends DomainError {
  constructor(message: string) {
    super("unauthenticated", message);
  }
}

/**
 * Checks `Authorization: Bearer <token>` against `[system] builder_auth_token`
 * as sha256 digests with `timingSafeEqual`, so neither content nor length
 * leaks through timing. No configured token refuses everything.
 */
export function checkBearer(header: string | undefined, token: Secret | undefined): void {
  if (!token || token.isEmpty) throw new DelegateAuthError("this builder node has no [system] builder_auth_token and refuses delegated builds");
  if (!header) throw new DelegateAuthError("authorization header is required");
  if (!header.startsWith("Bearer ")) throw new DelegateAuthError("authorization header with bearer token is required");
  const presented = header.slice("Bearer ".length).trim();
  if (presented === "") throw new DelegateAuthError("bearer token is required");
  if (!timingSafeEqual(digest(presented), digest(token.unwrap()))) throw new DelegateAuthError("invalid bearer token");
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
