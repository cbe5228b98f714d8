import { createHash, timingSafeEqual } from "node:crypto";
import type { Secret } from "../secret/secret.js";
import type { Scope } from "./scope-names.js";

/** A bearer token and what it may do; `name` is the setting it comes from, used in messages. */
export interface TokenCredential {
  readonly name: string;
  readonly token: Secret;
  readonly scopes: readonly Scope[];
}

/** What a verified client certificate says about its holder (mTLS). */
export interface PeerCertificate {
  /** Subject common name, "" when absent. */
  readonly commonName: string;
  /** subjectAltName entries as Node writes them: `DNS:host`, `URI:spiffe://…`. */
  readonly altNames: readonly string[];
}

/** Who a request comes from, as far as its credential says. */
export type Identity =
  | { readonly ok: true; readonly who: readonly string[]; readonly scopes: ReadonlySet<Scope> }
  | { readonly ok: false; readonly message: string };

export interface CredentialOptions {
  readonly tokens: readonly TokenCredential[];
  /** Identity (CN, SAN as `DNS:…` or bare, or `*`) → scopes; only for certificates the client CA verified. */
  readonly clientScopes: Readonly<Record<string, readonly Scope[]>>;
  /** True when the port verifies client certificates (`[https] client_ca_file`). */
  readonly mutualTls: boolean;
}

/** The configured credentials, able to name the caller of a request. */
export interface Credentials {
  /** False when nothing is configured: the port is open to every caller. */
  readonly configured: boolean;
  /**
   * The caller's scopes from `Authorization: Bearer …` and the verified client
   * certificate (both count when both are present). A bearer token that
   * matches none is refused even with a certificate, so a typo is noticed.
   */
  identify(authorization: string | undefined, peer: PeerCertificate | undefined): Identity;
}

/**
 * Builds the credential check. Tokens are compared as sha256 digests with
 * `timingSafeEqual` against every configured token (no early exit), so
 * neither content, length nor which token matched leaks through timing; the
 * token presented is never echoed in a message.
 */
export function createCredentials(options: CredentialOptions): Credentials {
  const tokens = options.tokens.filter((t) => !t.token.isEmpty).map((t) => ({ ...t, digest: digest(t.token.unwrap()) }));
  const configured = tokens.length > 0 || options.mutualTls;
  return {
    configured,
    identify(authorization, peer) {
      const scopes = new Set<Scope>();
      const who: string[] = [];
      if (authorization !== undefined && authorization !== "") {
        const presented = /^bearer\s+(\S+)\s*$/i.exec(authorization.trim())?.[1];
        if (presented === undefined) return { ok: false, message: "authorization header is not valid: expected Bearer <token>" };
        const d = digest(presented);
        let match: (typeof tokens)[number] | undefined;
        for (const t of tokens) if (timingSafeEqual(d, t.digest) && match === undefined) match = t;
        if (!match) return { ok: false, message: "invalid bearer token" };
        for (const s of match.scopes) scopes.add(s);
        who.push(`the ${match.name} token`);
      }
      if (peer !== undefined && options.mutualTls) {
        const names = [peer.commonName, ...peer.altNames, ...peer.altNames.map((n) => n.slice(n.indexOf(":") + 1))].filter((n) => n !== "");
        for (const key of [...names, "*"]) for (const s of options.clientScopes[key] ?? []) scopes.add(s);
        who.push(`client certificate ${JSON.stringify(peer.commonName || peer.altNames[0] || "")}`);
      }
      if (who.length === 0) return { ok: false, message: "missing bearer token" };
      return { ok: true, who, scopes };
    },
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
