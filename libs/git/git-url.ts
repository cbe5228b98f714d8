import { isAbsolute, resolve } from "node:path";
import { Secret } from "../secret/secret.js";
import { InvalidRepositoryError } from "./git-errors.js";

/** How git reaches a repository. */
export type GitTransport = "https" | "http" | "git" | "ssh" | "file" | "local";

/**
 * A repository string split into what git is given and what messages show.
 * Credentials written into an http(s) URL are moved out of it, so the URL
 * handed to git (argv) and the one printed never hold a secret.
 */
export interface ParsedRepository {
  /** What git is given: no userinfo for http(s); an absolute path for local. */
  readonly url: string;
  /** Printable form for messages and logs. */
  readonly display: string;
  readonly transport: GitTransport;
  /** User name taken out of an http(s) URL, if any. */
  readonly urlUsername: string | undefined;
  /** Password or token taken out of an http(s) URL, if any. */
  readonly urlPassword: Secret | undefined;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const SCP_LIKE = /^(?:[^@/\s]+@)?[^:/\s]+:[^\s].*$/;
const HELPER = /^[a-z][a-z0-9+.-]*::/i;
const EXPECTED = "an https://, http://, git://, ssh://, file:// URL, user@host:path or a local path";

/** Parses a repository string from a request; rejects what git should never see. */
export function parseRepository(input: string): ParsedRepository {
  const raw = input.trim();
  if (raw === "") throw new InvalidRepositoryError(raw, EXPECTED);
  // Option-like strings, transport helpers (`ext::sh -c …`, `fd::3`) and
  // `file:` without `//` (git would read it as ssh to a host named "file").
  if (raw.startsWith("-") || /[\0\r\n]/.test(raw) || HELPER.test(raw) || /^file:(?!\/\/)/i.test(raw)) {
    throw new InvalidRepositoryError(scrubUrl(raw), EXPECTED);
  }
  const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== undefined) return parseUrl(raw, scheme);
  if (!isAbsolute(raw) && !raw.startsWith(".") && SCP_LIKE.test(raw) && !raw.split(":")[0]?.includes("/")) {
    const host = (raw.split(":")[0] ?? "").replace(/^.*@/, "");
    if (host.startsWith("-")) throw new InvalidRepositoryError(raw, EXPECTED);
    return { url: raw, display: raw, transport: "ssh", urlUsername: undefined, urlPassword: undefined };
  }
  const path = resolve(raw);
  return { url: path, display: path, transport: "local", urlUsername: undefined, urlPassword: undefined };
}

function parseUrl(raw: string, scheme: string): ParsedRepository {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new InvalidRepositoryError(scrubUrl(raw), EXPECTED);
  }
  if (scheme === "file") {
    const path = decodeURIComponent(u.pathname);
    return { url: `file://${path}`, display: `file://${path}`, transport: "file", urlUsername: undefined, urlPassword: undefined };
  }
  if ((scheme !== "https" && scheme !== "http" && scheme !== "git" && scheme !== "ssh") || u.hostname === "" || u.hostname.startsWith("-")) {
    throw new InvalidRepositoryError(scrubUrl(raw), EXPECTED);
  }
  const username = u.username === "" ? undefined : decodeURIComponent(u.username);
  const password = u.password === "" ? undefined : new Secret(decodeURIComponent(u.password));
  u.password = "";
  if (scheme === "ssh") {
    // The ssh user is not a secret and selects the account: keep it.
    const url = u.toString();
    return { url, display: url, transport: "ssh", urlUsername: undefined, urlPassword: password };
  }
  u.username = "";
  const url = u.toString();
  return { url, display: url, transport: scheme, urlUsername: username, urlPassword: password };
}

/** Removes `user:password@` from every URL in a text (git's stderr, messages). */
export function scrubUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1");
}
