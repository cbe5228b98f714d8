import * as http from "node:http";
import * as https from "node:https";
import { rootCertificates } from "node:tls";
import type { CredentialSource } from "./credentials.js";
import {
  RegistryError, RegistryPermissionDeniedError, RegistryProtocolError, RegistryUnauthenticatedError, RegistryUnavailableError,
} from "./errors.js";
import { header, httpRequest, type HttpResponse, type RequestBody } from "./http-request.js";
import type { RegistryClientOptions } from "./registry-options.js";
import { RedirectRefusedError, sendFollowingRedirects } from "./redirects.js";
import { registryOp, transportCode, type RegistryExchangeObserver } from "./registry-op.js";
import { mapTransportError } from "./transport-errors.js";
import { parseWwwAuthenticate, type AuthChallenge } from "./www-authenticate.js";

export interface SessionRequest {
  readonly method: string;
  /** A path such as `/v2/<repo>/manifests/<tag>`, or an absolute URL from a Location header. */
  readonly target: string;
  /** Token scopes, e.g. `repository:a/b:pull,push`. */
  readonly scopes: readonly string[];
  readonly headers?: Record<string, string>;
  readonly body?: RequestBody;
  readonly signal: AbortSignal | undefined;
}

/** One registry host: scheme, auth challenge, tokens per scope, TLS agents. */
export interface RegistrySession {
  readonly host: string;
  /** `/v2/` ping: finds the scheme and the auth challenge (cached after the first success). */
  ping(signal: AbortSignal | undefined): Promise<void>;
  /** Sends with auth; answers 401 once with fresh auth; maps 401/403/429/5xx to typed errors. */
  send(req: SessionRequest): Promise<HttpResponse>;
  close(): void;
}

interface CachedToken {
  readonly token: string;
  readonly until: number;
}

/** Creates the session for `options.url`'s host; no I/O until the first request. */
export function createRegistrySession(
  options: RegistryClientOptions,
  credentials: CredentialSource,
  timeoutMs: number,
  onExchange?: RegistryExchangeObserver,
): RegistrySession {
  const host = options.url.replace(/^\/+/, "").split("/")[0] ?? "";
  const httpsAgent = new https.Agent({
    keepAlive: true,
    rejectUnauthorized: !options.insecure,
    ...(options.caPem === "" ? {} : { ca: [...rootCertificates, options.caPem] }),
    ...(options.clientCertPem === "" || options.clientKeyPem === undefined
      ? {}
      : { cert: options.clientCertPem, key: options.clientKeyPem.unwrap() }),
  });
  const httpAgent = new http.Agent({ keepAlive: true });
  // Hosts a redirect or a Location points to (a storage backend, a token
  // service elsewhere) get neither the client certificate nor Authorization.
  const foreignHttpsAgent = new https.Agent({
    keepAlive: true,
    rejectUnauthorized: !options.insecure,
    ...(options.caPem === "" ? {} : { ca: [...rootCertificates, options.caPem] }),
  });
  const ownOrigins = new Set([`https://${host}`, `http://${host}`].map((u) => { try { return new URL(u).origin; } catch { return u; } }));
  let base: URL | undefined;
  let challenge: AuthChallenge | undefined;
  let pinging: Promise<void> | undefined;
  const tokens = new Map<string, CachedToken>();

  /**
   * One exchange, following redirects: `credentials` go only to `origin`
   * (see `sendFollowingRedirects`), the client certificate only to this
   * registry's own host.
   */
  function raw(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: RequestBody | undefined,
    signal: AbortSignal | undefined,
    what: string,
    credentials: Record<string, string> = {},
    origin: string = url.origin,
  ): Promise<HttpResponse> {
    return sendFollowingRedirects({ method, url, headers, body }, credentials, origin, (hop) => {
      const own = ownOrigins.has(hop.url.origin);
      const agent = hop.url.protocol === "https:" ? (own ? httpsAgent : foreignHttpsAgent) : httpAgent;
      const sent = httpRequest({ method: hop.method, url: hop.url, headers: hop.headers, body: hop.body, agent, signal, timeoutMs });
      if (onExchange) {
        const op = registryOp(hop.method, hop.url);
        sent.then((res) => onExchange(op, String(res.status)), (err: unknown) => onExchange(op, transportCode(err)));
      }
      return sent;
    }).catch((err: unknown) => {
      if (err instanceof RedirectRefusedError) throw new RegistryProtocolError(host, `${what}: ${err.message}`, undefined, "failedPrecondition");
      throw mapTransportError(host, err, signal, what);
    });
  }

  async function pingAt(scheme: string, signal: AbortSignal | undefined): Promise<void> {
    const url = new URL(`${scheme}://${host}/v2/`);
    const res = await raw("GET", url, {}, undefined, signal, "GET /v2/");
    if (res.status === 200) challenge = undefined;
    else if (res.status === 401) challenge = parseWwwAuthenticate(header(res, "www-authenticate"));
    else throw statusError(res.status, "GET /v2/", "expected 200 or 401 from a registry");
    base = new URL(`${scheme}://${host}`);
  }

  async function doPing(signal: AbortSignal | undefined): Promise<void> {
    if (!options.insecure) return pingAt("https", signal);
    try {
      await pingAt("https", signal);
    } catch (err) {
      if (!(err instanceof RegistryError) || err.code === "canceled" || (err instanceof RegistryUnavailableError && err.status !== undefined)) throw err;
      await pingAt("http", signal);
    }
  }

  const statusError = (status: number, what: string, expected: string): RegistryError => statusErrorFor(host, status, what, expected);

  async function bearerToken(ch: Extract<AuthChallenge, { scheme: "bearer" }>, scopes: readonly string[], signal: AbortSignal | undefined): Promise<string> {
    const key = [...scopes].sort().join(" ");
    const hit = tokens.get(key);
    if (hit !== undefined && Date.now() < hit.until) return hit.token;
    const url = new URL(ch.realm);
    if (ch.service !== undefined) url.searchParams.set("service", ch.service);
    for (const s of scopes) url.searchParams.append("scope", s);
    const creds = await credentials.get(signal);
    const secret: Record<string, string> = creds === undefined ? {} : { authorization: basic(creds.username, creds.password.unwrap()) };
    const res = await raw("GET", url, { accept: "application/json" }, undefined, signal, "token request", secret, url.origin);
    if (res.status === 401 || res.status === 403) {
      credentials.invalidate();
      throw new RegistryUnauthenticatedError(host, credentials.username);
    }
    if (res.status !== 200) throw statusError(res.status, `token request to ${url.origin}${url.pathname}`, "expected 200");
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      body = JSON.parse(res.body.toString("utf8")) as typeof body;
    } catch {
      throw new RegistryProtocolError(host, "the token service answered with something other than JSON", res.status);
    }
    const token = typeof body.token === "string" && body.token !== "" ? body.token : typeof body.access_token === "string" ? body.access_token : "";
    if (token === "") throw new RegistryProtocolError(host, "the token service answered without a token", res.status);
    const lifetime = (typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 60) * 1000;
    const issued = typeof body.issued_at === "string" && !Number.isNaN(Date.parse(body.issued_at)) ? Math.min(Date.parse(body.issued_at), Date.now()) : Date.now();
    tokens.set(key, { token, until: issued + lifetime - Math.min(30_000, lifetime / 5) });
    return token;
  }

  async function authorization(scopes: readonly string[], signal: AbortSignal | undefined): Promise<string | undefined> {
    if (challenge === undefined) return undefined;
    if (challenge.scheme === "bearer") return `Bearer ${await bearerToken(challenge, scopes, signal)}`;
    const creds = await credentials.get(signal);
    return creds === undefined ? undefined : basic(creds.username, creds.password.unwrap());
  }

  const session: RegistrySession = {
    host,
    async ping(signal) {
      if (base !== undefined) return;
      pinging ??= doPing(signal).finally(() => {
        pinging = undefined;
      });
      return pinging;
    },
    async send(req) {
      await session.ping(req.signal);
      const url = new URL(req.target, base);
      const what = `${req.method} ${url.pathname}`;
      for (let attempt = 0; ; attempt++) {
        const auth = await authorization(req.scopes, req.signal);
        // Only this registry's origin gets the credential: an upload Location
        // or a redirect naming another host gets none.
        const res = await raw(req.method, url, { ...req.headers }, req.body, req.signal, what, auth === undefined ? {} : { authorization: auth }, base?.origin ?? url.origin);
        if (res.status === 401) {
          if (attempt === 0) {
            challenge = parseWwwAuthenticate(header(res, "www-authenticate")) ?? challenge;
            tokens.delete([...req.scopes].sort().join(" "));
            credentials.invalidate();
            continue;
          }
          // A token issued without the action asked for: the credentials are
          // good, the account may not do this (e.g. a pull-only robot pushing).
          const refusal = parseWwwAuthenticate(header(res, "www-authenticate"));
          if (refusal?.scheme === "bearer" && refusal.error === "insufficient_scope") {
            throw new RegistryPermissionDeniedError(host, credentials.username, `${what} (its token service grants no ${req.scopes.join(" ")})`);
          }
          throw new RegistryUnauthenticatedError(host, credentials.username);
        }
        if (res.status === 403) {
          throw new RegistryPermissionDeniedError(host, credentials.username, what);
        }
        if (res.status === 429 || res.status >= 500) throw statusError(res.status, what, "");
        return res;
      }
    },
    close() {
      httpsAgent.destroy();
      foreignHttpsAgent.destroy();
      httpAgent.destroy();
    },
  };
  return session;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

/** The typed error for an unexpected status: 429/5xx retryable, 404 notFound, others internal. */
export function statusErrorFor(host: string, status: number, what: string, expected: string): RegistryError {
  if (status === 429 || status >= 500) return new RegistryUnavailableError(host, `${what} answered ${status}`, status);
  return new RegistryProtocolError(host, `${what} answered ${status}: ${expected}`, status, status === 404 ? "notFound" : "internal");
}
