import type { ResolvedConfig } from "../libs/config/config-types.js";
import { DomainError } from "../libs/errors/domain-error.js";
import { createCredentials, type Credentials, type TokenCredential } from "../libs/rpc/credentials.js";
import { isScope, type Scope } from "../libs/rpc/scope-names.js";
import type { Secret } from "../libs/secret/secret.js";

/**
 * The credentials a server accepts, from the configuration: each token with
 * the scopes its setting grants (see `libs/rpc/rpc-scopes.ts`), and the
 * `[https] client_scopes` of client certificates when `client_ca_file` is set.
 */
export function serverCredentials(config: ResolvedConfig): Credentials {
  const tokens: TokenCredential[] = [];
  const add = (name: string, token: Secret | undefined, scopes: readonly Scope[]): void => {
    if (token && !token.isEmpty) tokens.push({ name, token, scopes });
  };
  add("[security] read_token", config.security.readToken, ["read"]);
  add("[security] build_token", config.security.buildToken, ["build", "read"]);
  add("[security] admin_token", config.security.adminToken, ["admin", "build", "read"]);
  add("[system] builder_auth_token", config.system.builderAuthToken, ["node"]);
  add("[services] token", config.services.token, ["internal", "node", "read"]);
  const clientScopes = Object.fromEntries(Object.entries(config.https.clientScopes).map(([id, list]) => [id, list.filter(isScope)]));
  return createCredentials({ tokens, clientScopes, mutualTls: config.https.clientCaFile !== "" && config.https.certFile !== "" });
}

/** The settings that give a server a credential, as the refusal names them. */
export const credentialSettings =
  "[security] build_token, read_token or admin_token, [system] builder_auth_token, [services] token (BUILDPLANE_SECURITY_BUILD_TOKEN, BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN, BUILDPLANE_SERVICES_TOKEN …) or [https] client_ca_file";

/** `serve` on a non-loopback address with nothing to authenticate callers by. */
export class OpenDoorError extends DomainError {
  constructor(readonly host: string) {
    super(
      "invalidArgument",
      `http.host "${host}" is not a loopback address and no credential is configured: set ${credentialSettings}; or set [security] allow_unauthenticated = true (BUILDPLANE_SECURITY_ALLOW_UNAUTHENTICATED=true) to serve every RPC to anyone who can reach the port`,
    );
  }
}

/**
 * Start-up check of the port's exposure: on loopback or with a credential,
 * fine; off loopback without one, refused unless `[security]
 * allow_unauthenticated` says so, and then the returned warning must be shown.
 */
export function checkExposure(host: string, credentials: Credentials, allowUnauthenticated: boolean): { warning?: string } {
  if (credentials.configured || isLoopback(host)) return {};
  if (!allowUnauthenticated) throw new OpenDoorError(host);
  return {
    warning: `WARNING: [security] allow_unauthenticated = true: every RPC on ${host} is served to anyone who can reach the port, with no credential (build, push, registry credentials, build logs)`,
  };
}

/** True for names and addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}
