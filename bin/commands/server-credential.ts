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
 * name the server URL; errors the server answered are returned unchanged.
 */
export function nameServerInFailure(err: ConnectError, url: string): ConnectError {
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  if (err.code !== Code.Unavailable || typeof cause?.code !== "string") return err;
  return new ConnectError(`cannot reach the buildplane server ${url}: ${err.rawMessage}`, err.code, undefined, undefined, cause);
}
