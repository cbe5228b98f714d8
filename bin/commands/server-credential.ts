import { readFileSync } from "node:fs";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createBearerTokenInterceptor } from "../../libs/rpc/auth-interceptor.js";
import { Secret } from "../../libs/secret/secret.js";
import { CliExit, exitCodes } from "./exit.js";
import { tokenEnvName } from "./token-file-option.js";

/** The options every `--server` command takes besides the URL. */
export interface ServerCredentialOptions {
  tokenFile?: string;
}

/**
 * The bearer token a `--server` command presents: the file's content
 * (surrounding whitespace trimmed) when `--token-file` is given, else
 * `$BUILDPLANE_TOKEN`, else none (the server then answers `unauthenticated`
 * unless it is open).
 */
export function serverToken(opts: ServerCredentialOptions, env: NodeJS.ProcessEnv): Secret | undefined {
  if (opts.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.tokenFile, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      throw new CliExit(exitCodes.usage, `--token-file "${opts.tokenFile}" cannot be read (${code}): expected a file holding the bearer token`);
    }
    const token = text.trim();
    if (token === "") throw new CliExit(exitCodes.usage, `--token-file "${opts.tokenFile}" is empty: expected a file holding the bearer token`);
    return new Secret(token);
  }
  const fromEnv = (env[tokenEnvName] ?? "").trim();
  return fromEnv === "" ? undefined : new Secret(fromEnv);
}

/** The client interceptors presenting `token`, if any. */
export function tokenInterceptors(token: Secret | undefined): Interceptor[] {
  return token ? [createBearerTokenInterceptor(token)] : [];
}

/**
 * A connection failure (the server could not be reached at all) reworded to
 * name the server URL, say what went wrong in words and what to try;
 * errors the server answered are returned unchanged. `origin` says where
 * the URL came from (`--server` or `$BUILDPLANE_SERVER`).
 */
export function nameServerInFailure(err: ConnectError, url: string, origin = "--server"): ConnectError {
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  if (err.code !== Code.Unavailable || typeof cause?.code !== "string") return err;
  const { what, hint } = connectionProblem(cause.code, url, origin);
  return new ConnectError(`cannot reach the buildplane server ${url}: ${what} (${err.rawMessage}); ${hint}`, err.code, undefined, undefined, cause);
}

/** What a socket or TLS error code means for a user, and what to try next. */
function connectionProblem(code: string, url: string, origin: string): { what: string; hint: string } {
  const checkUrl = `check the URL (${origin})`;
  switch (code) {
    case "ECONNREFUSED":
      return { what: "nothing listens on that port", hint: `${checkUrl} and that \`buildplane serve\` runs there` };
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return { what: "the host name does not resolve", hint: `${checkUrl} and the DNS name of the server` };
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return { what: "the host does not answer", hint: `${checkUrl}, and that no firewall or network policy drops the port` };
    case "ECONNRESET":
    case "EPROTO":
    case "ERR_SSL_WRONG_VERSION_NUMBER":
    case "ERR_HTTP2_ERROR":
    case "ERR_HTTP2_SESSION_ERROR":
      return {
        what: "the connection was cut",
        hint: url.startsWith("https:")
          ? `the server may not speak TLS on that port: try http:// in ${origin}`
          : `the server may expect TLS: try https:// in ${origin}`,
      };
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return { what: "its TLS certificate is not signed by a trusted authority", hint: "set NODE_EXTRA_CA_CERTS to the file of the CA that signed it" };
    case "CERT_HAS_EXPIRED":
      return { what: "its TLS certificate has expired", hint: "renew the server's certificate" };
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return { what: "its TLS certificate does not name that host", hint: `use in ${origin} a host name the certificate names` };
    default:
      return { what: "the connection failed", hint: `${checkUrl} and that \`buildplane serve\` runs there` };
  }
}
