import { CliExit, exitCodes } from "./exit.js";

/**
 * Checks a server URL before anything connects: `http://` or `https://`
 * with a host. `origin` names where it came from (`--server` or
 * `$BUILDPLANE_SERVER`) in the usage error.
 */
export function checkServerUrl(url: string, origin: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.hostname === "") {
    throw new CliExit(exitCodes.usage, `${origin} "${url}" is not valid: expected an http:// or https:// URL such as http://127.0.0.1:25222`);
  }
  return parsed;
}
